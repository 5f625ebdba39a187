/**
 * The types that follow a process's `stdio` and `tty` options to its streams, as Node's
 * `spawn()` overloads do for ChildProcess: with 'pipe' (the default) `stdout` is a Readable,
 * with 'inherit', 'ignore' or an fd it is null. Types only: lib/process/stdio.ts does the work.
 */
import type { Readable, Writable } from 'node:stream';
import type { StdioEntry, StdioOption, TerminalSize } from '../options/types';

/** The `tty` option as a type: true or a size gives a terminal; false or undefined none. */
export type TtyOption = boolean | TerminalSize | undefined;

/** What one of stdin, stdout and stderr was given: an entry of the array, or the one name for all. */
type EntryAt<S, I extends 0 | 1 | 2> = S extends undefined
  ? undefined
  : S extends string
    ? S
    : S extends readonly unknown[]
      ? I extends keyof S
        ? S[I]
        : undefined
      : StdioEntry;

/**
 * Node's end of one stdio entry: the stream for 'pipe' (and undefined or null, which mean
 * 'pipe'), null for 'inherit', 'ignore' and an fd; either for a Stream (one with an fd of its
 * own is handed to the program, null here; any other is piped through Node's end).
 */
type EndOf<E, Stream> = [E] extends ['pipe' | null | undefined]
  ? Stream
  : [E] extends ['inherit' | 'ignore' | number]
    ? null
    : Stream | null;

/** True when the tty option surely gives a terminal, false when surely not, boolean when unknown. */
type HasTerminal<T> = [T] extends [false | undefined] ? false : [T] extends [true | TerminalSize] ? true : boolean;

/** stdin: the terminal's input with a terminal, else as the stdio entry says. */
export type StdinOf<S extends StdioOption | undefined, T> = HasTerminal<T> extends true
  ? Writable
  : HasTerminal<T> extends false
    ? EndOf<EntryAt<S, 0>, Writable>
    : Writable | null;

/** stdout: the terminal's output with a terminal, else as the stdio entry says. */
export type StdoutOf<S extends StdioOption | undefined, T> = HasTerminal<T> extends true
  ? Readable
  : HasTerminal<T> extends false
    ? EndOf<EntryAt<S, 1>, Readable>
    : Readable | null;

/** stderr: null with a terminal (merged into stdout there), else as the stdio entry says. */
export type StderrOf<S extends StdioOption | undefined, T> = HasTerminal<T> extends true
  ? null
  : HasTerminal<T> extends false
    ? EndOf<EntryAt<S, 2>, Readable>
    : EndOf<EntryAt<S, 2>, Readable> | null;

/** The events of a ContainerProcess and their listeners, as ChildProcess has them. */
export interface ContainerProcessEvents {
  /** The program runs: `pid` is set. Comes before any output. */
  spawn: () => void;
  /** The program ended: its exit code, or the signal that ended it (the other is null). */
  exit: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** As 'exit', once its stdout and stderr have closed too. */
  close: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** It could not start (ENOENT, a ContainerSetupError...), or was aborted. */
  error: (error: Error) => void;
}

/** The listener for an event: the typed one for ContainerProcessEvents, any other (EventEmitter's) as it is. */
export type ListenerOf<E> = E extends keyof ContainerProcessEvents
  ? ContainerProcessEvents[E]
  : // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (...args: any[]) => void;

/** The arguments of emit() for an event. */
export type EmitArgs<E> = E extends keyof ContainerProcessEvents
  ? Parameters<ContainerProcessEvents[E]>
  : // eslint-disable-next-line @typescript-eslint/no-explicit-any
    any[];
