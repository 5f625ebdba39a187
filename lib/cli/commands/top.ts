/** `ts-container top ID`: the processes of one container, as docker top and runc ps list them. */
import type { TopCommand } from '../parsed';
import { openContainer, reportFailure, type CommandIO } from './common';
import { formatProcessList } from './format';

export async function topCommand(cmd: TopCommand, io: CommandIO): Promise<number> {
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    const processes = await container.processes();
    io.stdout.write(cmd.json ? `${JSON.stringify(processes, null, 2)}\n` : formatProcessList(processes));
    return 0;
  } catch (err) {
    return reportFailure(io, cmd.id, err);
  }
}
