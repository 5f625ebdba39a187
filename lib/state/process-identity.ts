/**
 * Telling a process apart from a later one with the same pid: its start time since boot
 * (field 22 of /proc/<pid>/stat) is recorded with its pid and checked whenever the pid is
 * used again. A pidfd opened and then checked names that very process from then on.
 */
import * as fs from 'node:fs';
import { native } from '../native/binding';

/** The start time of a live (not zombie) process in clock ticks since boot, or undefined. */
export function processStartTime(pid: number): string | undefined {
  // This process's own never changes, and reading it sums over all of Node's threads.
  if (pid === process.pid && ownStartTime !== undefined) return ownStartTime;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const startTime = startTimeOf(stat);
  if (pid === process.pid) ownStartTime = startTime;
  return startTime;
}

let ownStartTime: string | undefined;

/** processStartTime() without blocking the event loop. */
export async function processStartTimeAsync(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await fs.promises.readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return startTimeOf(stat);
}

/** Field 22 of a /proc/<pid>/stat text; undefined for a zombie. */
function startTimeOf(stat: string): string | undefined {
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); a zombie has exited, whoever has yet to reap it.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/** isSameProcess() without blocking the event loop. */
export async function isSameProcessAsync(pid: number, startTime: string | undefined): Promise<boolean> {
  return pid > 0 && startTime !== undefined && startTime !== '' && (await processStartTimeAsync(pid)) === startTime;
}

/** Whether pid is still the process that started at startTime. */
export function isSameProcess(pid: number, startTime: string | undefined): boolean {
  return pid > 0 && startTime !== undefined && startTime !== '' && processStartTime(pid) === startTime;
}

/** A pidfd of the process recorded as (pid, startTime), or -1 when it is gone. */
export function openRecordedProcess(pid: number, startTime: string | undefined): number {
  if (!isSameProcess(pid, startTime)) return -1;
  const pidfd = native().pidfdOpen(pid);
  if (pidfd < 0) return -1;
  // Checked again now that the pidfd pins the process: the pid was not reused in between.
  if (!isSameProcess(pid, startTime)) {
    native().closeFd(pidfd);
    return -1;
  }
  return pidfd;
}
