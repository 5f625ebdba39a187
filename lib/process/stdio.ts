/**
 * The `stdio` option, as child_process takes it: 'pipe', 'inherit', 'ignore',
 * an fd, or a stream, for each of stdin, stdout and stderr. Resolves each to
 * the fd the helper hands to the program and, for pipes, Node's end.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Readable, Stream, Writable } from 'node:stream';
import type { StdioEntry, StdioOption } from '../options/types';
import { fail } from '../options/option-error';
import { native } from '../native/binding';

export interface ResolvedStdio {
  /** fds for the program's 0, 1 and 2. */
  childFds: [number, number, number];
  /** Our copies of the program's ends: closed once the helper has started. */
  closeAfterStart: number[];
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

function expand(option: StdioOption | undefined): StdioEntry[] {
  if (option === undefined) return ['pipe', 'pipe', 'pipe'];
  if (typeof option === 'string') return [option, option, option];
  if (!Array.isArray(option)) fail('stdio', 'expected "pipe", "inherit", "ignore" or an array of those, fds or streams');
  if (option.length > 3) fail('stdio', 'only stdin, stdout and stderr are supported (at most 3 entries)');
  const entries = [...option];
  while (entries.length < 3) entries.push(undefined);
  return entries;
}

/** The fd behind a stream, when it has one (process.stdout, an open fs stream, a socket). */
function streamFd(stream: Stream): number | undefined {
  const candidate = stream as unknown as { fd?: unknown; _handle?: { fd?: unknown } };
  if (typeof candidate.fd === 'number' && candidate.fd >= 0) return candidate.fd;
  if (candidate._handle && typeof candidate._handle.fd === 'number' && candidate._handle.fd >= 0) return candidate._handle.fd;
  return undefined;
}

/** Checks the option's shape without creating anything. */
export function checkStdio(option: StdioOption | undefined): void {
  expand(option).forEach((entry, i) => {
    if (entry === undefined || entry === null || entry === 'pipe' || entry === 'inherit' || entry === 'ignore') return;
    if (typeof entry === 'number' && Number.isInteger(entry) && entry >= 0) return;
    if (entry instanceof Stream) return;
    fail(`stdio[${i}]`, 'expected "pipe", "inherit", "ignore", an fd or a stream');
  });
}

export function resolveStdio(option: StdioOption | undefined): ResolvedStdio {
  const entries = expand(option);
  const result: ResolvedStdio = { childFds: [-1, -1, -1], closeAfterStart: [], stdin: null, stdout: null, stderr: null };
  const streamsToConnect: { index: number; stream: Stream }[] = [];
  try {
    entries.forEach((entry, index) => {
      let kind = entry ?? 'pipe';
      if (kind instanceof Stream) {
        const fd = streamFd(kind);
        if (fd !== undefined) kind = fd;
        else {
          streamsToConnect.push({ index, stream: kind });
          kind = 'pipe';
        }
      }
      if (kind === 'inherit') {
        result.childFds[index] = index;
      } else if (typeof kind === 'number') {
        result.childFds[index] = kind;
      } else if (kind === 'ignore') {
        const fd = fs.openSync('/dev/null', index === 0 ? 'r' : 'w');
        result.childFds[index] = fd;
        result.closeAfterStart.push(fd);
      } else {
        const [readFd, writeFd] = native().createPipe();
        const childEnd = index === 0 ? readFd : writeFd;
        const ourEnd = index === 0 ? writeFd : readFd;
        result.childFds[index] = childEnd;
        result.closeAfterStart.push(childEnd);
        const socket = new net.Socket({ fd: ourEnd, readable: index !== 0, writable: index === 0 });
        if (index === 0) result.stdin = socket;
        else if (index === 1) result.stdout = socket;
        else result.stderr = socket;
      }
    });
  } catch (error) {
    closeChildEnds(result);
    result.stdin?.destroy();
    result.stdout?.destroy();
    result.stderr?.destroy();
    throw error;
  }
  for (const { index, stream } of streamsToConnect) {
    if (index === 0) (stream as Readable).pipe(result.stdin as Writable);
    else (index === 1 ? result.stdout : result.stderr)?.pipe(stream as Writable);
  }
  return result;
}

export function closeChildEnds(stdio: ResolvedStdio): void {
  for (const fd of stdio.closeAfterStart.splice(0)) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }
}
