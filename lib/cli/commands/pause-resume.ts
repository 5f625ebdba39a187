/** `ts-container pause ID` and `resume ID`: freeze and thaw the container's cgroup. */
import type { PauseResumeCommand } from '../parsed';
import { openContainer, reportFailure, type CommandIO } from './common';

export async function pauseResumeCommand(cmd: PauseResumeCommand, io: CommandIO): Promise<number> {
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    if (cmd.kind === 'pause') await container.pause();
    else await container.resume();
    io.stdout.write(`${cmd.id}\n`);
    return 0;
  } catch (err) {
    return reportFailure(io, cmd.id, err);
  }
}
