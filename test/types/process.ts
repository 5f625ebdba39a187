/**
 * Expected uses and expected errors of spawn() and exec(): streams typed by stdio and tty, as
 * Node's spawn() types ChildProcess, and typed events.
 */
import { Container, type ContainerProcess } from 'ts-container';
import type { Readable, Writable } from 'node:stream';

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

const c = new Container({ hostname: 'box' });

// 'pipe', the default: every stream is there.
const piped = c.spawn(['sh', '-c', 'echo hi']);
piped.stdout.pipe(process.stdout);
piped.stderr.on('data', (chunk: Buffer) => chunk);
piped.stdin.end('input');
assertType<Equal<typeof piped.stdout, Readable>>(true);
assertType<Equal<typeof piped.stdin, Writable>>(true);
assertType<Equal<typeof piped.stderr, Readable>>(true);
const explicitPipe = c.exec(['true'], { stdio: 'pipe' });
assertType<Equal<typeof explicitPipe.stdout, Readable>>(true);

// 'inherit' and 'ignore': null, as ChildProcess has them.
const inherited = c.exec(['true'], { stdio: 'inherit' });
assertType<Equal<typeof inherited.stdout, null>>(true);
const ignored = c.exec(['true'], { stdio: 'ignore' });
assertType<Equal<typeof ignored.stdin, null>>(true);
// @ts-expect-error stdout is null with 'inherit'
inherited.stdout.pipe(process.stdout);

// An array: each stream as its entry says; missing entries are 'pipe'.
const mixed = c.exec(['true'], { stdio: ['ignore', 'pipe', 'inherit'] });
assertType<Equal<typeof mixed.stdin, null>>(true);
assertType<Equal<typeof mixed.stdout, Readable>>(true);
assertType<Equal<typeof mixed.stderr, null>>(true);
const short = c.exec(['true'], { stdio: ['ignore'] });
assertType<Equal<typeof short.stdout, Readable>>(true);
// An fd is handed to the program; a stream may be (when it has an fd) or be piped.
const fds = c.exec(['true'], { stdio: [0, 1, process.stderr] });
assertType<Equal<typeof fds.stdout, null>>(true);
assertType<Equal<typeof fds.stderr, Readable | null>>(true);

// Options typed as ProcessOptions (not known at compile time): the streams may be null.
import type { ProcessOptions } from 'ts-container';
const options: ProcessOptions = { stdio: 'pipe' };
const unknown = c.exec(['true'], options);
assertType<Equal<typeof unknown.stdout, Readable | null>>(true);
// @ts-expect-error may be null
unknown.stdout.pipe(process.stdout);

// A terminal: stdin and stdout are the terminal, stderr is null (merged into stdout).
const shell = c.exec(['sh'], { tty: true });
shell.stdin.write('exit\n');
shell.stdout.pipe(process.stdout);
assertType<Equal<typeof shell.stderr, null>>(true);
const sized = c.exec(['sh'], { tty: { columns: 100, rows: 30 } });
assertType<Equal<typeof sized.stderr, null>>(true);
const noTerminal = c.exec(['sh'], { tty: false });
assertType<Equal<typeof noTerminal.stderr, Readable>>(true);

// create() is typed as spawn().
async function created(): Promise<void> {
  const main = await c.create(['sleep', '1'], { stdio: 'ignore' });
  assertType<Equal<typeof main.stdout, null>>(true);
}

// Events, typed as ChildProcess's.
piped.on('exit', (code, signal) => {
  assertType<Equal<typeof code, number | null>>(true);
  assertType<Equal<typeof signal, NodeJS.Signals | null>>(true);
});
piped.once('close', (code: number | null, signal: NodeJS.Signals | null) => [code, signal]);
piped.on('error', (error) => assertType<Equal<typeof error, Error>>(true));
piped.on('spawn', () => piped.pid);
void new Promise<void>((resolve) => piped.once('spawn', resolve));
// @ts-expect-error the exit code is a number or null, not a string
piped.on('exit', (code: string) => code);
// @ts-expect-error 'spawn' has no arguments
piped.on('spawn', (pid: number) => pid);
// Any other event is EventEmitter's, untyped.
piped.on('custom', (a: unknown, b: unknown) => [a, b]);

// Results.
async function results(): Promise<void> {
  const { exitCode, signal, stdout } = await c.exec(['echo']).output();
  assertType<Equal<typeof exitCode, number | null>>(true);
  assertType<Equal<typeof signal, NodeJS.Signals | null>>(true);
  assertType<Equal<typeof stdout, string>>(true);
}

// A ContainerProcess with the default parameters takes any of them.
const any: ContainerProcess[] = [piped, inherited, shell, unknown];

// ContainerProcess has no public constructor: spawn() and exec() make them.
// @ts-expect-error private constructor
new ContainerProcess();
import { ContainerProcess as ContainerProcessClass } from 'ts-container';
// @ts-expect-error private constructor
new ContainerProcessClass({});
void [created, results, any];

// argv may be a readonly array (`as const`, a frozen config).
const argv = ['sh', '-c', 'echo hi'] as const;
c.exec(argv);
c.spawn(argv, { stdio: 'inherit' });
// @ts-expect-error argv is strings
c.exec(['sleep', 1]);
