/**
 * Shared helpers of the real-kernel cgroup tests. Nothing here assumes a layout: where the
 * hierarchies are comes from the library's own detection (mountinfo + /proc/self/cgroup),
 * so the same tests run on this hybrid host and in the pure cgroup v2 VM guest.
 *
 * Each test file uses its own cgroupParent (`/tsc-test-<tag>-<pid>`), so that the
 * "no cgroup left below the parent" check sees only its own containers, even while other
 * test files run at the same time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { Container } from '../../lib';
import { hostHierarchies, Hierarchy } from '../../lib/cgroups/hierarchy';
import type { ContainerOptions } from '../../lib/options/types';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { RUN_TAG } from '../support/unique';

export const rootfs = ensureBusyboxRootfs();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How long a test waits for something slow to happen (an OOM kill, a fork bomb reaching its
 * limit, a fresh Node process getting through its start) before it fails. Only a bound for a
 * hang: the tests wait for the event itself. It is generous because the same tests run in an
 * emulated (TCG) guest on a busy machine (`npm run test:cgroup2`), where a process runs tens
 * of times slower than on the host.
 */
export const SLOW_DEADLINE_MS = 180_000;

/** The jest timeout of a test that waits for such an event: the deadline, and room for setup. */
export const SLOW_TEST_TIMEOUT_MS = SLOW_DEADLINE_MS + 120_000;

/**
 * A command that takes `size` (dd's notation, e.g. "200M") of memory in one process at
 * once: dd reads /dev/zero into a buffer that big, so the kernel touches every page in one
 * read. Growing a buffer in user space instead (tail or tr on /dev/zero) costs minutes of
 * CPU in the emulated guest.
 */
export function allocate(size: string): string {
  return `dd if=/dev/zero of=/dev/null bs=${size} count=1 2>/dev/null`;
}

/** Every hierarchy the library would make a container cgroup in, with a readable label. */
export function hierarchies(): { label: string; hierarchy: Hierarchy }[] {
  const h = hostHierarchies();
  return [
    ...(h.unified ? [{ label: 'unified', hierarchy: h.unified }] : []),
    ...h.v1.map((hierarchy) => ({ label: hierarchy.controllers.join(','), hierarchy })),
  ];
}

/** True when the host has no v1 hierarchy that ts-container uses (pure cgroup v2). */
export function isPureV2(): boolean {
  return hostHierarchies().v1.length === 0;
}

/** True when `controller` is a cgroup v1 controller here (v1-only and hybrid hosts). */
export function onV1(controller: string): boolean {
  return v1With(controller) !== undefined;
}

/** The v1 hierarchy holding `controller`, if any. */
function v1With(controller: string): Hierarchy | undefined {
  return hostHierarchies().v1.find((h) => h.controllers.includes(controller));
}

/** Host path of the container's cgroup directory for `controller` (v1 hierarchy, else unified). */
export function hostCgroupDir(parent: string, id: string, controller: string): string {
  const h = v1With(controller) ?? hostHierarchies().unified;
  if (!h) throw new Error(`no hierarchy for ${controller}`);
  return path.join(h.mount, parent, id);
}

/** Reads a cgroup file of a container from the host side: the v1 name where the controller is v1, else the v2 name. */
export function readHostCgroupFile(parent: string, id: string, controller: string, v1File: string, v2File: string): string {
  const file = v1With(controller) ? v1File : v2File;
  return fs.readFileSync(path.join(hostCgroupDir(parent, id, controller), file), 'utf8');
}

/**
 * Where a user inside the container reads a cgroup file: /sys/fs/cgroup/<file> on a pure v2
 * host, /sys/fs/cgroup/<controller hierarchy>/<v1 file> on v1 and hybrid hosts (and the
 * v2 name below /sys/fs/cgroup/unified for a controller only cgroup2 offers there).
 */
export function insideCgroupFile(controller: string, v1File: string, v2File: string): string {
  const h = v1With(controller);
  if (h) return `/sys/fs/cgroup/${path.basename(h.mount)}/${v1File}`;
  return isPureV2() ? `/sys/fs/cgroup/${v2File}` : `/sys/fs/cgroup/unified/${v2File}`;
}

/** Forks the kernel refused at the limit ("max N" in pids.events, v1 and v2 alike). */
export function forksRefused(pidsDir: string): number {
  return Number(/max (\d+)/.exec(fs.readFileSync(path.join(pidsDir, 'pids.events'), 'utf8'))?.[1] ?? 0);
}

/** The most processes the cgroup ever held: pids.peak, where the kernel keeps it (Linux 6.13); else null. */
export function pidsPeak(pidsDir: string): number | null {
  const file = path.join(pidsDir, 'pids.peak');
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : null;
}

/** Subdirectories (container cgroups) below the parent, per hierarchy; hierarchies without the parent dir list []. */
export function cgroupsBelow(parent: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { label, hierarchy } of hierarchies()) {
    const dir = path.join(hierarchy.mount, parent);
    let names: string[] = [];
    try {
      names = fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch {
      names = [];
    }
    out[label] = names;
  }
  return out;
}

/** Waits up to timeoutMs for the listing below `parent` to equal `expected`; returns the last listing. */
export async function waitCgroupsBelow(parent: string, expected: Record<string, string[]>, timeoutMs = 5000): Promise<Record<string, string[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = cgroupsBelow(parent);
    if (JSON.stringify(now) === JSON.stringify(expected) || Date.now() >= deadline) return now;
    await sleep(50);
  }
}

/** The listing with no container cgroup in any hierarchy. */
export function emptyListing(): Record<string, string[]> {
  return Object.fromEntries(hierarchies().map(({ label }) => [label, []]));
}

/** The listing with exactly these container ids in every hierarchy. */
export function listingWith(...ids: string[]): Record<string, string[]> {
  return Object.fromEntries(hierarchies().map(({ label }) => [label, [...ids].sort()]));
}

/** Removes the test file's parent cgroup in every hierarchy (it must be empty by then). */
export function removeParent(parent: string): void {
  for (const { hierarchy } of hierarchies()) {
    const dir = path.join(hierarchy.mount, parent);
    // Deepest first, in case the parent has several levels.
    for (let d = dir; d.startsWith(hierarchy.mount) && d !== hierarchy.mount; d = path.dirname(d)) {
      try {
        fs.rmdirSync(d);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') break;
      }
    }
  }
}

/**
 * Installs the per-file hooks: every test starts and ends with no container cgroup below
 * the file's own parent (containers made with `make` are destroyed first), and the
 * parent itself goes in afterAll. Returns the parent and a factory of tracked containers.
 */
export function cgroupTestFile(tag: string): { parent: string; make: (options?: ContainerOptions) => Container } {
  const parent = `/tsc-test-${tag}-${RUN_TAG}`;
  const live: Container[] = [];
  beforeEach(() => {
    expect(cgroupsBelow(parent)).toEqual(emptyListing());
  });
  afterEach(async () => {
    await Promise.all(live.splice(0).map((c) => c.destroy()));
    expect(await waitCgroupsBelow(parent, emptyListing())).toEqual(emptyListing());
  });
  afterAll(() => {
    removeParent(parent);
  });
  const make = (options: ContainerOptions = {}): Container => {
    const c = new Container({ rootfs, readonly: true, cgroupParent: parent, ...options });
    live.push(c);
    return c;
  };
  return { parent, make };
}

/** Collects a stream's text (bounded, so that a fork bomb's stderr cannot eat the heap). */
export function collect(stream: Readable | null, max = 64 * 1024): { text: () => string } {
  let seen = '';
  stream?.on('data', (d: Buffer) => {
    if (seen.length < max) seen += d.toString();
  });
  return { text: () => seen };
}

/** Resolves once `text` has appeared on the stream. */
export function waitFor(stream: Readable | null, text: string | RegExp, timeoutMs = 15000): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no stream'));
    let seen = '';
    const matches = (): boolean => (typeof text === 'string' ? seen.includes(text) : text.test(seen));
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`timed out waiting for ${String(text)}; got ${JSON.stringify(seen.slice(-2000))}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      if (seen.length < 1024 * 1024) seen += d.toString();
      if (matches()) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
  });
}

/**
 * Waits for the process to have started (p.started) and to have printed `text`. Output can
 * arrive before `started` resolves, and stats()/pause()/update() need the main process
 * known as running.
 */
export async function startedAndPrinted(p: { started: Promise<void>; stdout: Readable | null }, text: string | RegExp, timeoutMs = 15000): Promise<string> {
  const [seen] = await Promise.all([waitFor(p.stdout, text, timeoutMs), p.started]);
  return seen;
}

/** Waits until `check` returns true, polling; false when it never did within timeoutMs. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** pids listed in a cgroup.procs file on the host. */
export function procsOf(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The pid in the container's cgroup whose command line is `cmdline`, waiting for it to show up. */
export async function findPidInCgroup(dir: string, cmdline: string, timeoutMs = 5000): Promise<number> {
  let found: number | undefined;
  await eventually(() => {
    found = procsOf(dir).find((pid) => cmdlineOf(pid) === cmdline);
    return found !== undefined;
  }, timeoutMs);
  if (found === undefined) throw new Error(`no process "${cmdline}" in ${dir}: ${procsOf(dir).map((p) => `${p}=${cmdlineOf(p)}`).join(', ')}`);
  return found;
}
