/** `ts-container logs [-f] [--raw] ID`: a detached container's output, each record to the stream it came from. */
import { constants as osConstants } from 'node:os';
import type { LogsCommand } from '../parsed';
import { onInterrupt, openContainer, report, reportFailure, type CommandIO, type Output } from './common';
import { ControlEscaper } from './escape-controls';

/** Where one stream's records go: as they are, or with control characters escaped for a terminal. */
function sink(output: Output, raw: boolean): { write(data: Uint8Array): void; end(): void } {
  const isTerminal = (output as { isTTY?: boolean }).isTTY === true;
  if (raw || !isTerminal) return { write: (data) => output.write(data), end: () => undefined };
  const escaper = new ControlEscaper();
  return {
    write: (data) => output.write(escaper.write(data)),
    end: () => {
      const rest = escaper.end();
      if (rest) output.write(rest);
    },
  };
}

export async function logsCommand(cmd: LogsCommand, io: CommandIO): Promise<number> {
  // Ctrl-C (or SIGTERM) ends the reading, not the container: stop iterating, then exit as a
  // program killed by that signal would, as `tail -f` does.
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | undefined;
  const removeHandlers = onInterrupt(io, (sig) => {
    interruptedBy ??= sig;
    controller.abort();
  });
  // The container's bytes would otherwise drive the user's terminal (title, clipboard, screen).
  const stdout = sink(io.stdout, cmd.raw);
  const stderr = sink(io.stderr, cmd.raw);
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    for await (const record of container.logs({ follow: cmd.follow, signal: controller.signal })) {
      if (record.stream === 'dropped') {
        report(io, `${record.droppedBytes ?? 0} bytes of output were dropped here (the log could not be written)`);
        continue;
      }
      // stdout and stderr are synchronous for files and pipes on Linux: no backpressure to wait for.
      (record.stream === 'stderr' ? stderr : stdout).write(record.data);
    }
  } catch (err) {
    if (interruptedBy === undefined) return reportFailure(io, cmd.id, err);
  } finally {
    stdout.end();
    stderr.end();
    removeHandlers();
  }
  return interruptedBy === undefined ? 0 : 128 + osConstants.signals[interruptedBy];
}
