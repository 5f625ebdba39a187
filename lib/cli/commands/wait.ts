/**
 * `ts-container wait ID...`: blocks until each container has stopped and prints its exit code,
 * one line each in the order given, as docker wait (128+N for a container killed by signal N).
 */
import { exitCodeOf } from '../run-command';
import type { WaitCommand } from '../parsed';
import { forEachId, openContainer, type CommandIO } from './common';

export function waitCommand(cmd: WaitCommand, io: CommandIO): Promise<number> {
  return forEachId(io, cmd.ids, async (id) => {
    const container = await openContainer(id, cmd.stateRoot);
    const status = await container.wait();
    io.stdout.write(`${exitCodeOf(status)}\n`);
  });
}
