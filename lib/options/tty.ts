/**
 * The `tty` option of a container (its main process) and of a process: whether it gets a
 * pseudo-terminal, and of which size. Normalized to the size, or null for none.
 */
import type { TerminalSize } from './types';
import { fail } from './option-error';

/** The size a terminal gets when the caller says only `tty: true`: a VT100's. */
export const DEFAULT_TERMINAL_SIZE: Readonly<TerminalSize> = { columns: 80, rows: 24 };

/** struct winsize holds each dimension in an unsigned short; a 0-cell terminal shows nothing. */
const MAX_DIMENSION = 65535;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** One dimension (columns or rows): an integer from 1 to 65535. */
export function checkDimension(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
    fail(where, `expected an integer 1-${MAX_DIMENSION}, got ${describe(value)}`);
  }
  return value;
}

/** false or unset: null (no terminal); true: 80x24; { columns, rows }: that size. */
export function checkTty(value: unknown, where = 'tty'): TerminalSize | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { ...DEFAULT_TERMINAL_SIZE };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(where, `expected true, false or { columns, rows }, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (key !== 'columns' && key !== 'rows') fail(`${where}.${key}`, 'unknown option (expected columns or rows)');
  }
  const size = value as Record<string, unknown>;
  return { columns: checkDimension(size.columns, `${where}.columns`), rows: checkDimension(size.rows, `${where}.rows`) };
}

/**
 * A process with a terminal reads and writes the terminal: stdin and stdout (and stderr) are
 * its, so only the default, 'pipe', fits (the streams are then the terminal's).
 */
export function checkTtyStdio(stdio: unknown): void {
  const isPipe = (entry: unknown): boolean => entry === undefined || entry === null || entry === 'pipe';
  if (isPipe(stdio) || (Array.isArray(stdio) && stdio.every(isPipe))) return;
  fail('stdio', 'a tty process takes its stdin and stdout from the terminal (leave stdio unset or "pipe")');
}
