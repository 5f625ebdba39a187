/**
 * The conditions a run's figures hold under, printed in its header and kept in its JSON:
 * the figures are true of a host like this one, not facts of ts-container. What they depend
 * on most: the number of cores, the load when the run began (other work on the machine), the
 * filesystem of the state root (ext4 forces data to disk on a rename over a file), and what a
 * new file costs there and under the data root. A container makes about eighteen inodes on
 * those filesystems (its state files, its writable layer, and what overlayfs makes in the
 * layer's work directory at each mount), and on ext4 without a journal each new inode skips
 * the group's inodes freed in the last dirtytime_expire_seconds (12 hours by default): on a
 * host that has made many containers that day, a new file there costs 0.1 ms and more, against
 * a few microseconds on a tmpfs. On ext2/3/4 the library makes a container's layer (and state
 * directory, on the data root's filesystem) in homes spread over the block groups
 * (lib/state/spread-homes.ts): what a new file costs in one of them is measured too. And what the host charges for a system call, a process and a
 * new page of memory (bench/process-costs.c): child_process.spawn is made of those too, so they
 * tell why a run's absolute times differ from another host's while its ratios hold.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface HostConditions {
  cpus: number;
  /** 1-minute load average when the run began. */
  loadAverage: number;
  stateRoot: string;
  /** The filesystem type of the mount the state root is on (e.g. ext4, tmpfs); null if unknown. */
  stateRootFs: string | null;
  /**
   * On ext4, whether that filesystem has a journal (without one, each new inode skips the
   * recently freed ones: see above); null when it is not ext4 or that cannot be read.
   */
  stateRootJournal?: boolean | null;
  /** The same two of the data root's containers/, where a container's writable layer is made. */
  dataRootFs?: string | null;
  dataRootJournal?: boolean | null;
  /**
   * What making a new file costs in a new directory under the state root and under the data
   * root's containers/ (median µs of NEW_FILE_PROBES, measured as the run begins); null when
   * that could not be measured (the root not writable, or not made yet and not makeable).
   */
  newFileUs?: {
    stateRoot: number | null;
    dataRoot: number | null;
    dataRootPath: string;
    /**
     * The same in one of the data root's homes (lib/state/spread-homes.ts), where the library
     * makes layers and state directories on ext2/3/4; absent where the data root has none.
     */
    homes?: number | null;
  };
  /** Medians from bench/process-costs.c; null when it could not be built or run (no cc). */
  processCosts?: ProcessCosts | null;
}

export interface ProcessCosts {
  /** getppid(2), in µs. */
  syscallUs: number;
  /** fork, _exit in the child and waitpid, of a small process, in µs. */
  forkUs: number;
  /** The first write to a page of a fresh anonymous mapping, in µs. */
  newPageUs: number;
}

/** Files each new-file probe makes (and removes). */
const NEW_FILE_PROBES = 24;

/**
 * The median time, in µs, of making an empty file in a new directory under `root` (as a
 * container's state directory and writable layer are made), or null when it cannot be
 * measured. Everything it makes is removed before it returns.
 */
export function probeNewFileUs(root: string): number | null {
  let dir: string;
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    dir = fs.mkdtempSync(path.join(root, '.bench-new-file-'));
  } catch {
    return null;
  }
  const times: number[] = [];
  try {
    for (let i = 0; i < NEW_FILE_PROBES; i++) {
      const t0 = process.hrtime.bigint();
      fs.closeSync(fs.openSync(path.join(dir, `f${i}`), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } catch {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * The host's cost of a system call, a process and a new page (bench/process-costs.c, built
 * here with the host's cc in a temporary directory, removed after), or null when it cannot be
 * built or run.
 */
export function probeProcessCosts(): ProcessCosts | null {
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-costs-'));
    const exe = path.join(dir, 'process-costs');
    execFileSync('cc', ['-O2', '-o', exe, path.join(__dirname, 'process-costs.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const costs = JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as ProcessCosts;
    const valid = [costs.syscallUs, costs.forkUs, costs.newPageUs].every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
    return valid ? costs : null;
  } catch {
    return null;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A root as lib/ resolves it (`resolver` of lib/<module>), or `fallback` when lib/ does not load. */
async function rootFromLib(module: string, resolver: string, fallback: string): Promise<string> {
  try {
    const entry = require.resolve(path.resolve(__dirname, '..', 'lib', ...module.split('/')));
    const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown> & { default?: Record<string, unknown> };
    const resolve = (mod[resolver] ?? mod.default?.[resolver]) as (() => string) | undefined;
    if (resolve) return resolve();
  } catch {
    // lib/ does not load: the root's default, as lib/ has it.
  }
  return fallback;
}

/** The default state root as lib/ resolves it; /run/ts-container when lib/ cannot say. */
function defaultStateRoot(): Promise<string> {
  return rootFromLib('state/state-root', 'resolveStateRoot', process.env.TS_CONTAINER_STATE_ROOT || '/run/ts-container');
}

/** The default data root as lib/ resolves it; /var/lib/ts-container when lib/ cannot say. */
function defaultDataRoot(): Promise<string> {
  return rootFromLib('images/data-root', 'resolveDataRoot', process.env.TS_CONTAINER_DATA_ROOT || '/var/lib/ts-container');
}

/** The fstype of the deepest mount containing `target` (or its nearest existing ancestor). */
export function filesystemOf(target: string): string | null {
  return mountOf(target)?.type ?? null;
}

/**
 * Whether the ext4 filesystem `target` is on has a journal, as its /sys/fs/ext4/<device>/journal_task
 * says ("<none>" without one); null when the filesystem is not ext4 or that cannot be read.
 */
export function ext4HasJournal(target: string): boolean | null {
  const mount = mountOf(target);
  if (mount?.type !== 'ext4') return null;
  try {
    // The kernel's name of the device (vda, dm-0, nvme0n1p2), as /sys/fs/ext4 lists it.
    const name = path.basename(fs.realpathSync(`/sys/dev/block/${mount.device}`));
    return fs.readFileSync(`/sys/fs/ext4/${name}/journal_task`, 'utf8').trim() !== '<none>';
  } catch {
    return null;
  }
}

/** The deepest mount containing `target` (or its nearest existing ancestor): its fstype and device (major:minor). */
function mountOf(target: string): { type: string; device: string } | null {
  let dir = path.resolve(target);
  while (!fs.existsSync(dir) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  try {
    dir = fs.realpathSync(dir);
  } catch {
    return null;
  }
  let best: { point: string; type: string; device: string } | null = null;
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const point = fields[4]?.replace(/\\040/g, ' ');
    if (!point) continue;
    const inside = point === '/' || dir === point || dir.startsWith(`${point}/`);
    // The later of two mounts on one point is the one on top.
    if (inside && (!best || point.length >= best.point.length)) best = { point, type: right.split(' ')[0], device: fields[2] };
  }
  return best ? { type: best.type, device: best.device } : null;
}

export async function hostConditions(): Promise<HostConditions> {
  const stateRoot = await defaultStateRoot();
  const dataRoot = await defaultDataRoot();
  const dataRootPath = path.join(dataRoot, 'containers');
  // Probed only where the library made them: the probe makes none.
  const home = path.join(dataRoot, '.homes', '0');
  return {
    cpus: os.cpus().length,
    loadAverage: os.loadavg()[0],
    stateRoot,
    stateRootFs: filesystemOf(stateRoot),
    stateRootJournal: ext4HasJournal(stateRoot),
    dataRootFs: filesystemOf(dataRootPath),
    dataRootJournal: ext4HasJournal(dataRootPath),
    newFileUs: {
      stateRoot: probeNewFileUs(stateRoot),
      dataRoot: probeNewFileUs(dataRootPath),
      dataRootPath,
      ...(fs.existsSync(home) ? { homes: probeNewFileUs(home) } : {}),
    },
    processCosts: probeProcessCosts(),
  };
}

/**
 * "on a 2-core host (load average 8.3 at the start) with the state root /run/ts-container on
 * ext4 without a journal (a new file: 106 µs there, 96 µs under /var/lib/ts-container/containers, 3.1 µs in its homes),
 * where a system call takes 1.1 µs, a fork+exit+wait 0.70 ms and a new page 14 µs"
 */
export function formatConditions(c: HostConditions): string {
  const us = (v: number | null) => (v === null ? 'not measured' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} µs`);
  const stateFs = describeFilesystem(c.stateRootFs, c.stateRootJournal);
  const dataFs = c.dataRootFs === undefined ? stateFs : describeFilesystem(c.dataRootFs, c.dataRootJournal);
  // The data root's filesystem is named only where it is not the state root's kind.
  const dataOn = dataFs === stateFs ? '' : ` on ${dataFs}`;
  const homes = c.newFileUs?.homes === undefined ? '' : `, ${us(c.newFileUs.homes)} in its homes`;
  const newFile = c.newFileUs ? ` (a new file: ${us(c.newFileUs.stateRoot)} there, ${us(c.newFileUs.dataRoot)} under ${c.newFileUs.dataRootPath}${dataOn}${homes})` : '';
  const costs = c.processCosts
    ? `, where a system call takes ${us(c.processCosts.syscallUs)}, a fork+exit+wait ${(c.processCosts.forkUs / 1000).toFixed(2)} ms and a new page ${us(c.processCosts.newPageUs)}`
    : c.processCosts === null
      ? ' (system call, process and page costs not measured)'
      : '';
  return `on a ${c.cpus}-core host (load average ${c.loadAverage.toFixed(1)} at the start) ` +
    `with the state root ${c.stateRoot} on ${stateFs}${newFile}${costs}`;
}

/** "ext4 without a journal", "ext4", "tmpfs", "an unknown filesystem". */
function describeFilesystem(type: string | null, journal: boolean | null | undefined): string {
  if (type === null) return 'an unknown filesystem';
  return journal === false ? `${type} without a journal` : type;
}
