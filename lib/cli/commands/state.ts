/** `ts-container state ID`: the OCI state as JSON, as `runc state` prints it. */
import type { StateCommand } from '../parsed';
import { openContainer, reportFailure, type CommandIO } from './common';

export async function stateCommand(cmd: StateCommand, io: CommandIO): Promise<number> {
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    io.stdout.write(`${JSON.stringify(await container.state(), null, 2)}\n`);
    return 0;
  } catch (err) {
    return reportFailure(io, cmd.id, err);
  }
}
