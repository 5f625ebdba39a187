/**
 * Text formatting of the tables that list and ps print: columns, relative times, statuses.
 * Pure, so that the exact output is tested without containers.
 */
import type { ContainerListEntry } from '../../state/types';
import { healthSuffix } from './health-format';

/** Columns padded to their widest cell, separated by three spaces as docker's tables are. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => (r[col] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, col) => (col === cells.length - 1 ? cell : cell.padEnd(widths[col])))
      .join('   ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** At most `max` characters; a cut string ends with '…' so that it is not mistaken for the whole. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * A command line as a shell would read it back: words with spaces or quotes are quoted, so that
 * `sh -c 'echo hi'` is not shown as four words.
 */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const UNITS: [number, string][] = [
  [365 * 24 * 3600, 'year'],
  [30 * 24 * 3600, 'month'],
  [7 * 24 * 3600, 'week'],
  [24 * 3600, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** "3 seconds ago", "1 hour ago", "just now", as docker ps shows CREATED. */
export function relativeTime(iso: string | undefined, now: Date): string {
  const then = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const seconds = Math.floor((now.getTime() - then) / 1000);
  // A clock set back, or a state written by a host a little ahead: not "-2 seconds ago".
  if (seconds < 1) return 'just now';
  for (const [size, unit] of UNITS) {
    const n = Math.floor(seconds / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

/** STATUS: the state, how a stopped container ended, or why its state could not be read. */
export function statusText(entry: ContainerListEntry): string {
  if (entry.error !== undefined) return `unknown: ${entry.error}`;
  let text: string = entry.status;
  if (entry.status === 'stopped') {
    if (entry.signal) text += ` (${entry.signal})`;
    else if (entry.exitCode !== undefined && entry.exitCode !== null) text += ` (exit ${entry.exitCode})`;
  }
  if (entry.restartCount > 0) text += `, restarted ${entry.restartCount} time${entry.restartCount === 1 ? '' : 's'}`;
  // As docker ps: "(healthy)", "(unhealthy)", "(health: starting)", while it runs.
  return text + healthSuffix(entry);
}

/** The longest COMMAND shown; the whole one is in --json. */
export const COMMAND_WIDTH = 30;

/** The rows of `list`: ID, ROOTFS, COMMAND, CREATED, STATUS, PID. */
export function formatContainerList(entries: readonly ContainerListEntry[], now: Date): string {
  const rows = entries.map((e) => {
    if (e.error !== undefined) return [e.id, '-', '-', '-', statusText(e), '-'];
    return [
      e.id,
      e.rootfs ?? 'host /',
      truncate(formatCommand(e.command), COMMAND_WIDTH),
      relativeTime(e.created, now),
      statusText(e),
      e.pid > 0 ? String(e.pid) : '-',
    ];
  });
  return formatTable(['ID', 'ROOTFS', 'COMMAND', 'CREATED', 'STATUS', 'PID'], rows);
}

/** The rows of `ps`: PID and COMMAND, whole (a process's command line is what ps is asked for). */
export function formatProcessList(processes: readonly { pid: number; command: string }[]): string {
  return formatTable(['PID', 'COMMAND'], processes.map((p) => [String(p.pid), p.command]));
}
