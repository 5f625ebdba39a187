/**
 * Snapshots of everything a container run could leave behind on the host, and a check
 * that a later snapshot holds nothing new.
 *
 * What is compared:
 * - mounts: the lines of the host's /proc/self/mountinfo (the jest worker's mount namespace);
 * - children: every process whose parent is this process (container processes are
 *   created with CLONE_PARENT, so a zombie or a stray container process shows up here);
 * - tempFiles: entries of os.tmpdir(), /tmp, /run and /dev/shm whose name contains
 *   'ts-container' (searched two levels deep, so a state directory's contents count), but
 *   not the state directories of containers that other processes made;
 * - fds: this process's open file descriptors with their targets.
 *
 * Mounts and temp files are global to the machine, and jest runs two test files at once:
 * an entry that shows up and goes away again belongs to a container that another worker
 * is running. So a global entry counts as left over only if it stays for the whole poll
 * window. Children and fds belong to this process alone and must all go away.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ID_BLOCK_DIR } from '../../lib/userns/id-blocks';
import * as path from 'node:path';

export interface Snapshot {
  mounts: string[];
  children: string[];
  tempFiles: string[];
  fds: string[];
}

export type SnapshotDiff = { [K in keyof Snapshot]: string[] };

const TEMP_ROOTS = Array.from(new Set([os.tmpdir(), '/tmp', '/run', '/dev/shm']));
const NAME_MARK = 'ts-container';

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Parsed /proc/<pid>/stat: pid, comm, state, ppid. */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

export function readStat(pid: number | string): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { pid: Number(text.slice(0, open - 1)), comm: text.slice(open + 1, close), state: rest[0], ppid: Number(rest[1]) };
}

export function allPids(): number[] {
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Processes (zombies included) whose parent is `parent` (default: this process). */
export function childProcesses(parent: number = process.pid): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of allPids()) {
    const st = readStat(pid);
    if (st && st.ppid === parent) out.push(st);
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

function listTempFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number, inside: boolean): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const marked = inside || e.name.includes(NAME_MARK);
      if (marked) found.push(full);
      if (e.isDirectory() && depth > 0 && marked) walk(full, depth - 1, true);
    }
  };
  for (const root of TEMP_ROOTS) walk(root, 2, false);
  return Array.from(new Set(found))
    .filter((file) => !inOthersStateDirectory(file) && !isMachineWide(file))
    .sort();
}

/** The default state root (root's): one directory per container, of every process. */
const STATE_ROOT = '/run/ts-container';

/**
 * The user-namespace id blocks' lock files (lib/userns/id-blocks.ts): made once for the
 * machine and kept, as the default state root is; no file there belongs to one container.
 */
function isMachineWide(file: string): boolean {
  return file === ID_BLOCK_DIR || file.startsWith(`${ID_BLOCK_DIR}/`);
}

/**
 * Whether a file is in the state directory of a container another process made (the other
 * jest worker's, which may run for longer than the poll window). The state root itself,
 * made once and kept, is not a leftover either.
 */
function inOthersStateDirectory(file: string): boolean {
  if (file === STATE_ROOT) return true;
  if (!file.startsWith(STATE_ROOT + '/')) return false;
  const id = file.slice(STATE_ROOT.length + 1).split('/')[0];
  try {
    const record = JSON.parse(fs.readFileSync(path.join(STATE_ROOT, id, 'state.json'), 'utf8')) as { makerPid?: unknown };
    return record.makerPid !== process.pid;
  } catch {
    return false;
  }
}

function listFds(): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const n of names) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${n}`);
    } catch {
      continue; // the fd of the readdir itself, closed by now
    }
    out.push(`${n} -> ${target}`);
  }
  return out.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
}

export function snapshot(): Snapshot {
  return {
    mounts: readLines('/proc/self/mountinfo'),
    children: childProcesses().map((s) => `${s.pid} ${s.state} ${s.comm} [${cmdline(s.pid)}]`),
    tempFiles: listTempFiles(),
    fds: listFds(),
  };
}

function minus(now: string[], before: string[]): string[] {
  const b = new Set(before);
  return now.filter((x) => !b.has(x));
}

/** Entries of `now` that were not in `before`. Children are compared by pid. */
export function diffSnapshots(before: Snapshot, now: Snapshot): SnapshotDiff {
  const pidOf = (s: string) => s.split(' ')[0];
  const beforePids = new Set(before.children.map(pidOf));
  // An fd number reused for the same kind of target is not a leak; a new number or a new target is.
  return {
    mounts: minus(now.mounts, before.mounts),
    children: now.children.filter((c) => !beforePids.has(pidOf(c))),
    tempFiles: minus(now.tempFiles, before.tempFiles),
    fds: minus(now.fds, before.fds),
  };
}

function isEmpty(d: SnapshotDiff): boolean {
  return d.mounts.length + d.children.length + d.tempFiles.length + d.fds.length === 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (up to timeoutMs) for the host to hold nothing that was not in `before`, and returns
 * what is left: children and fds of this process that remain at the end, plus global
 * entries (mounts, temp files) that stayed for the whole window.
 */
export async function leftovers(before: Snapshot, timeoutMs = 5000): Promise<SnapshotDiff> {
  const deadline = Date.now() + timeoutMs;
  let d = diffSnapshots(before, snapshot());
  if (isEmpty(d)) return d;
  let persistentMounts = new Set(d.mounts);
  let persistentTemp = new Set(d.tempFiles);
  for (;;) {
    await sleep(100);
    d = diffSnapshots(before, snapshot());
    persistentMounts = new Set(d.mounts.filter((m) => persistentMounts.has(m)));
    persistentTemp = new Set(d.tempFiles.filter((t) => persistentTemp.has(t)));
    const result: SnapshotDiff = {
      mounts: [...persistentMounts],
      children: d.children,
      tempFiles: [...persistentTemp],
      fds: d.fds,
    };
    if (isEmpty(result) || Date.now() >= deadline) return result;
  }
}

/** Fails (with the list of what is left) unless the host is back to `before`. */
export async function assertNothingLeft(before: Snapshot, timeoutMs = 5000): Promise<void> {
  const left = await leftovers(before, timeoutMs);
  expect(left).toEqual({ mounts: [], children: [], tempFiles: [], fds: [] });
}

/** The namespace links (e.g. 'pid:[4026532301]') of a process, keyed by namespace name. */
export function namespacesOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup', 'user', 'time']) {
    try {
      out[ns] = fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
    } catch {
      /* namespace type not supported */
    }
  }
  return out;
}

/** The namespaces of a process that are not this (host) process's own ones. */
export function ownNamespaces(pid: number): string[] {
  const host = namespacesOf(process.pid);
  const theirs = namespacesOf(pid);
  return Object.keys(theirs).filter((k) => theirs[k] !== host[k]).map((k) => theirs[k]);
}

/**
 * Every process on the host that is in, or holds an fd to, one of the given namespaces
 * (links as returned by namespacesOf). Used to check that no namespace is kept open.
 */
export function namespaceHolders(links: string[], startedBy = Infinity): string[] {
  const wanted = new Set(links);
  const holders: string[] = [];
  for (const pid of allPids()) {
    // Namespace inode numbers are reused once freed: a process that started later may be in a
    // new namespace (another test file's container) that has an old one's number.
    if (startTicks(pid) > startedBy) continue;
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup', 'user', 'time']) {
      let l: string;
      try {
        l = fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
      } catch {
        continue;
      }
      if (wanted.has(l)) holders.push(`${pid} (${readStat(pid)?.comm}) is in ${l}`);
    }
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    // A setup server holds, above its channel and its own network namespace (fds 3 and 4),
    // the network namespace it made ahead for the next container: made after the ones
    // checked here ended, never one of them, but it may have a freed one's number.
    const isSetupServer = readStat(pid)?.comm === 'tsc-setup-srv';
    for (const fd of fds) {
      if (isSetupServer && Number(fd) > 4) continue;
      let l: string;
      try {
        l = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(l)) holders.push(`${pid} (${readStat(pid)?.comm}) fd ${fd} -> ${l}`);
    }
  }
  return holders;
}

/** A process's start time in clock ticks since boot (Infinity once it is gone). */
function startTicks(pid: number | string): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return Infinity;
  }
}

/** Now, in the clock ticks (USER_HZ, 100 on Linux) of process start times. */
export function ticksNow(): number {
  return Math.ceil(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100) + 1;
}

/**
 * Waits up to timeoutMs for no process to hold the namespaces; returns the holders left. Called
 * once the containers are destroyed: a leak includes a process that started before that, while
 * processes started later can only be in new namespaces whose numbers were reused.
 */
export async function waitNamespacesGone(links: string[], timeoutMs = 5000, startedBy = ticksNow()): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const h = namespaceHolders(links, startedBy);
    if (h.length === 0 || Date.now() >= deadline) return h;
    await sleep(100);
  }
}

/** True while /proc/<pid> exists (a zombie counts as existing). */
export function pidExists(pid: number): boolean {
  return fs.existsSync(`/proc/${pid}`);
}

export async function waitPidGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidExists(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Whether process `pid` has its own handler for signal `signo` (SigCgt in /proc/<pid>/status).
 * A container's PID 1 drops a signal it has no handler for: a test that signals a trap must
 * wait for this first.
 */
export function handlesSignal(pid: number, signo: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(signo - 1))) !== 0n;
  } catch {
    return false;
  }
}
