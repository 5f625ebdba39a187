/**
 * `ts-container kill ID [SIGNAL]` and `ts-container stop [-t SECONDS] ID...`: a signal as asked,
 * or the polite ending (SIGTERM, then SIGKILL after the timeout). Each prints the id, as docker's do.
 */
import { ContainerStateError } from '../../errors/errors';
import type { KillCommand, StopCommand } from '../parsed';
import { forEachId, openContainer, reportFailure, type CommandIO } from './common';

export async function killCommand(cmd: KillCommand, io: CommandIO): Promise<number> {
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    if (!container.kill(cmd.signal)) throw new ContainerStateError(`cannot kill container ${cmd.id}: it is not running`);
    io.stdout.write(`${cmd.id}\n`);
    return 0;
  } catch (err) {
    return reportFailure(io, cmd.id, err);
  }
}

export function stopCommand(cmd: StopCommand, io: CommandIO): Promise<number> {
  return forEachId(io, cmd.ids, async (id) => {
    const container = await openContainer(id, cmd.stateRoot);
    await container.stop(cmd.timeout === undefined ? {} : { timeout: cmd.timeout });
    io.stdout.write(`${id}\n`);
  });
}
