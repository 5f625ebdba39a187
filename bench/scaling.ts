/**
 * Cost against the number of running containers (issue 9, item 16): with N containers
 * running (sleeping, made by this process, in a state root and cgroup parent of the bench's
 * own), for each N:
 * - spawn in this process: new Container() to wait() of `true`, the median of a few;
 * - first spawn of a new Node process: the same, in a fresh process each time (whose
 *   once-per-process sweeps of the state root and the cgroup parent see all N), from the
 *   child's own clock, so Node's start is not included;
 * - list(): Container.list() of the state root (N + 1 entries), its median, and the longest
 *   stretch the event loop was blocked while it ran (monitorEventLoopDelay's max).
 * Flat curves are the goal: no step of a spawn may look at every container.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadContainerClass, type ContainerLike } from './container-api';
import { nsToMs, quantileSorted } from './stats';

export interface ScalingOptions {
  rootfs: string;
  /** Running containers for each point, ascending, e.g. [0, 100, 1000]. */
  sizes: number[];
  /** Timed runs per point and measure. */
  samples: number;
  log: (line: string) => void;
}

export interface ScalingPoint {
  running: number;
  spawnMedianMs: number;
  firstSpawnInNewProcessMedianMs: number;
  listMedianMs: number;
  listMaxLoopBlockMs: number;
}

export interface ScalingResult {
  samples: number;
  points: ScalingPoint[];
}

const median = (values: number[]): number => quantileSorted([...values].sort((a, b) => a - b), 0.5);

/** A Node process that times its first spawn of `true` and prints it (ms). */
function firstSpawnInNewProcess(options: { rootfs: string; stateRoot: string; cgroupParent: string }): Promise<number> {
  const lib = path.resolve(__dirname, '..', 'lib', 'index');
  const script = `
    const { Container } = require(${JSON.stringify(lib)});
    (async () => {
      const t0 = process.hrtime.bigint();
      const c = new Container({ rootfs: ${JSON.stringify(options.rootfs)}, readonly: true, stateRoot: ${JSON.stringify(options.stateRoot)}, cgroupParent: ${JSON.stringify(options.cgroupParent)} });
      await c.spawn(['true'], { stdio: 'ignore' }).wait();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await c.destroy();
      process.stdout.write(String(ms));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`first spawn in a new process failed: ${err.slice(0, 500)}`))));
  });
}

export async function measureScaling(options: ScalingOptions): Promise<ScalingResult> {
  const Container = await loadContainerClass();
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-scaling-'));
  const cgroupParent = `/tsc-bench-scaling-${process.pid}`;
  const common = { rootfs: options.rootfs, readonly: true, stateRoot, cgroupParent };
  const running: ContainerLike[] = [];
  const points: ScalingPoint[] = [];
  try {
    for (const size of options.sizes) {
      options.log(`  scaling: ${size} running containers…`);
      while (running.length < size) {
        const c = new Container(common);
        running.push(c);
        await c.spawn(['sleep', '100000'], { stdio: 'ignore' }).started;
      }
      const spawns: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        const t0 = process.hrtime.bigint();
        const c = new Container(common);
        await c.spawn(['true'], { stdio: 'ignore' }).wait();
        spawns.push(nsToMs(process.hrtime.bigint() - t0));
        await c.destroy();
      }
      const firsts: number[] = [];
      for (let i = 0; i < Math.max(1, Math.ceil(options.samples / 4)); i++) firsts.push(await firstSpawnInNewProcess(common));
      const lists: number[] = [];
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      for (let i = 0; i < options.samples; i++) {
        const t0 = process.hrtime.bigint();
        await Container.list({ stateRoot });
        lists.push(nsToMs(process.hrtime.bigint() - t0));
      }
      delay.disable();
      points.push({
        running: size,
        spawnMedianMs: median(spawns),
        firstSpawnInNewProcessMedianMs: median(firsts),
        listMedianMs: median(lists),
        listMaxLoopBlockMs: delay.max / 1e6,
      });
    }
  } finally {
    await Promise.all(running.map((c) => c.destroy().catch(() => undefined)));
    fs.rmSync(stateRoot, { recursive: true, force: true });
  }
  return { samples: options.samples, points };
}

export function formatScaling(result: ScalingResult): string {
  const header = ['running', 'spawn (ms)', 'first spawn, new process (ms)', 'list() (ms)', 'list() longest loop block (ms)'];
  const rows = result.points.map((p) => [
    String(p.running), p.spawnMedianMs.toFixed(1), p.firstSpawnInNewProcessMedianMs.toFixed(1), p.listMedianMs.toFixed(1), p.listMaxLoopBlockMs.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padStart(widths[i])).join('  ')).join('\n');
}
