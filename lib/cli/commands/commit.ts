/** `ts-container commit CONTAINER REFERENCE`: prints the new image's id. */
import type { CommitCommand } from '../parsed';
import { openContainer, reportFailure, type CommandIO } from './common';

export async function commitCommand(cmd: CommitCommand, io: CommandIO): Promise<number> {
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    const image = await container.commit(cmd.reference, {
      changes: cmd.changes,
      pause: cmd.pause,
      ...(cmd.message !== undefined ? { message: cmd.message } : {}),
      ...(cmd.author !== undefined ? { author: cmd.author } : {}),
    });
    io.stdout.write(`${image.id}\n`);
    return 0;
  } catch (err) {
    return reportFailure(io, cmd.id, err);
  }
}
