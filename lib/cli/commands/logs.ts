/** `ts-container logs [-f] ID`: a detached container's output, each record to the stream it came from. */
import { constants as osConstants } from 'node:os';
import type { LogsCommand } from '../parse-lifecycle';
import { onInterrupt, openContainer, reportFailure, type CommandIO } from './common';

export async function logsCommand(cmd: LogsCommand, io: CommandIO): Promise<number> {
  // Ctrl-C (or SIGTERM) ends the reading, not the container: stop iterating, then exit as a
  // program killed by that signal would, as `tail -f` does.
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const removeHandlers = onInterrupt(io, (sig) => {
    interruptedBy ??= sig;
    controller.abort();
  });
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    for await (const record of container.logs({ follow: cmd.follow, signal: controller.signal })) {
      // stdout and stderr are synchronous for files and pipes on Linux: no backpressure to wait for.
      (record.stream === 'stderr' ? io.stderr : io.stdout).write(record.data);
    }
  } catch (err) {
    if (interruptedBy === undefined) return reportFailure(io, cmd.id, err);
  } finally {
    removeHandlers();
  }
  return interruptedBy === undefined ? 0 : 128 + osConstants.signals[interruptedBy];
}
