/**
 * `ts-container logs [-f] [--raw] [--tail N] [--since DUR|TIME] [-t] ID`: a detached container's
 * output, each record to the stream it came from; with -t, each line after its time.
 */
import { constants as osConstants } from 'node:os';
import type { LogsCommand } from '../parsed';
import type { LogRecord } from '../../state/types';
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

/** -t: the record's time (RFC 3339, UTC, as docker logs -t) before each line it starts, per stream. */
class LineStamps {
  readonly #atLineStart = { stdout: true, stderr: true };

  apply(record: LogRecord): Buffer {
    const stream = record.stream as 'stdout' | 'stderr';
    const prefix = Buffer.from(`${record.time.toISOString()} `);
    const parts: Buffer[] = [];
    let start = 0;
    while (start < record.data.length) {
      if (this.#atLineStart[stream]) parts.push(prefix);
      const nl = record.data.indexOf(10, start);
      const end = nl < 0 ? record.data.length : nl + 1;
      parts.push(record.data.subarray(start, end));
      this.#atLineStart[stream] = nl >= 0;
      start = end;
    }
    return Buffer.concat(parts);
  }
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
    const since = cmd.since === undefined ? undefined : 'atMs' in cmd.since ? cmd.since.atMs : Date.now() - cmd.since.agoMs;
    const stamp = cmd.timestamps ? new LineStamps() : undefined;
    const selection = { follow: cmd.follow, signal: controller.signal, ...(since !== undefined ? { since } : {}), ...(cmd.tail !== undefined ? { tail: cmd.tail } : {}) };
    for await (const record of container.logs(selection)) {
      if (record.stream === 'dropped') {
        report(io, `${record.droppedBytes ?? 0} bytes of output were dropped here (the log could not be written)`);
        continue;
      }
      // stdout and stderr are synchronous for files and pipes on Linux: no backpressure to wait for.
      const data = stamp ? stamp.apply(record) : record.data;
      (record.stream === 'stderr' ? stderr : stdout).write(data);
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
