/**
 * The conditions a run's figures hold under, printed in its header and kept in its JSON:
 * the figures are true of a host like this one, not facts of ts-container. What they depend
 * on most: the number of cores, the load when the run began (other work on the machine), and
 * the filesystem of the state root (ext4 forces data to disk on a rename over a file).
 */
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
}

/** The default state root as lib/ resolves it; /run/ts-container when lib/ cannot say. */
async function defaultStateRoot(): Promise<string> {
  try {
    const entry = require.resolve(path.resolve(__dirname, '..', 'lib', 'state', 'state-root'));
    const mod = (await import(pathToFileURL(entry).href)) as { resolveStateRoot?: () => string; default?: { resolveStateRoot?: () => string } };
    const resolve = mod.resolveStateRoot ?? mod.default?.resolveStateRoot;
    if (resolve) return resolve();
  } catch {
    // lib/ does not load: the root's default, as lib/ has it.
  }
  return process.env.TS_CONTAINER_STATE_ROOT || '/run/ts-container';
}

/** The fstype of the deepest mount containing `target` (or its nearest existing ancestor). */
export function filesystemOf(target: string): string | null {
  let dir = path.resolve(target);
  while (!fs.existsSync(dir) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  try {
    dir = fs.realpathSync(dir);
  } catch {
    return null;
  }
  let best: { point: string; type: string } | null = null;
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
    const point = left.split(' ')[4]?.replace(/\\040/g, ' ');
    if (!point) continue;
    const inside = point === '/' || dir === point || dir.startsWith(`${point}/`);
    // The later of two mounts on one point is the one on top.
    if (inside && (!best || point.length >= best.point.length)) best = { point, type: right.split(' ')[0] };
  }
  return best?.type ?? null;
}

export async function hostConditions(): Promise<HostConditions> {
  const stateRoot = await defaultStateRoot();
  return { cpus: os.cpus().length, loadAverage: os.loadavg()[0], stateRoot, stateRootFs: filesystemOf(stateRoot) };
}

/** "on a 2-core host (load average 8.3 at the start) with the state root /run/ts-container on ext4" */
export function formatConditions(c: HostConditions): string {
  return `on a ${c.cpus}-core host (load average ${c.loadAverage.toFixed(1)} at the start) ` +
    `with the state root ${c.stateRoot} on ${c.stateRootFs ?? 'an unknown filesystem'}`;
}
