/**
 * The opt-in phase trace (lib/process/phase-trace.ts) that bench/phases.ts reads: off unless
 * TS_CONTAINER_PHASE_TRACE=1 when the library loads, and then every phase of a spawn and a
 * destroy is marked, in the order it happens, for that container only.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { runCgroupParent } from './support/unique';
import { normalizeContainerOptions, normalizeProcessOptions } from '../lib/options/validate';

type TraceModule = typeof import('../lib/process/phase-trace');
type Lib = typeof import('../lib');

const ENV = 'TS_CONTAINER_PHASE_TRACE';

/** The keys of the first process's plan, as the given copy of lib/container/plan.ts writes it. */
function planKeys(plans: typeof import('../lib/container/plan')): string[] {
  const config = { ...normalizeContainerOptions({ id: 'traced', stateRoot: '/run/tsc-x', dataRoot: '/data' }), userns: null };
  const main = normalizeProcessOptions(['true'], undefined, config, 'main');
  return plans.runPlan(['true'], main.process, config, null, null).toString().split('\0').map((entry) => entry.split('=')[0]);
}

/** Loads a fresh copy of `module` with the trace variable set to `value` (or unset). */
function loadWith<T>(value: string | undefined, module: string): T {
  const before = process.env[ENV];
  let loaded: T | undefined;
  try {
    if (value === undefined) delete process.env[ENV];
    else process.env[ENV] = value;
    jest.isolateModules(() => {
      loaded = require(module) as T;
    });
  } finally {
    if (before === undefined) delete process.env[ENV];
    else process.env[ENV] = before;
  }
  return loaded as T;
}

const SPAWN_PHASES = [
  'options normalized',
  'state directory made',
  'id block',
  'plan built',
  'helper launched',
  // Made while the helper clones the container's process (native/helper/cgroup_gate.h).
  'writable layer made',
  'cgroup made, state written',
  'helper report',
  'start recorded',
  "'spawn'",
];
const DESTROY_PHASES = ['destroy: kill, wait', 'destroy: cgroup removed', 'destroy: stop hooks, leftovers', 'destroy: state removed'];
/** The helper's own marks (native/helper/phase_marks.h): its worker's, its process's up to the exec, its worker's. */
const HELPER_PHASES = [
  'plan received',
  'plan parsed',
  'process cloned',
  'first gate opened',
  'first gate passed',
  'rootfs mounted',
  '/proc, /sys, /dev mounted',
  'cgroups joined',
  'cgroup filesystems mounted',
  'mounts, masks made',
  'root pivoted',
  'seccomp loaded',
  'exec seen',
];

describe('phase trace', () => {
  it('is off unless TS_CONTAINER_PHASE_TRACE=1', () => {
    expect(loadWith<TraceModule>(undefined, '../lib/process/phase-trace').phaseTrace).toBeNull();
    expect(loadWith<TraceModule>('0', '../lib/process/phase-trace').phaseTrace).toBeNull();
  });

  it('marks each phase of a spawn and a destroy, in order, per container', async () => {
    const { Container } = loadWith<Lib>('1', '../lib');
    const { phaseTrace } = loadWith<TraceModule>('1', '../lib/process/phase-trace');
    expect(phaseTrace).not.toBeNull();
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-phase-trace-'));
    try {
      const options = { rootfs: ensureBusyboxRootfs(), stateRoot, cgroupParent: runCgroupParent('phase-trace') };
      const traced = new Container(options);
      const other = new Container(options);
      await Promise.all([traced.spawn(['true'], { stdio: 'ignore' }).wait(), other.spawn(['true'], { stdio: 'ignore' }).wait()]);
      await traced.destroy();
      await other.destroy();
      const marks = phaseTrace!.take(traced.id);
      const phases = marks.map((m) => m.phase);
      // The spawn's phases first, in order; 'exit' and 'close' after 'spawn'; destroy's last.
      expect(phases.slice(0, SPAWN_PHASES.length)).toEqual(SPAWN_PHASES);
      expect(phases.slice(SPAWN_PHASES.length, -DESTROY_PHASES.length).sort()).toEqual(["'close'", "'exit'", 'exit recorded'].sort());
      expect(phases.slice(-DESTROY_PHASES.length)).toEqual(DESTROY_PHASES);
      expect(phases.indexOf("'exit'")).toBeLessThan(phases.indexOf('exit recorded'));
      const times = marks.map((m) => m.at);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // Taken: gone from the trace; the other container's marks are its own.
      expect(phaseTrace!.take(traced.id)).toEqual([]);
      expect(phaseTrace!.take(other.id).map((m) => m.phase)).toEqual(phases);
    } finally {
      fs.rmSync(stateRoot, { recursive: true, force: true });
    }
  });

  it("has the helper mark its own steps, between Node's hand-over of the plan and the report", async () => {
    const { Container } = loadWith<Lib>('1', '../lib');
    const { phaseTrace } = loadWith<TraceModule>('1', '../lib/process/phase-trace');
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-phase-trace-'));
    try {
      const c = new Container({ rootfs: ensureBusyboxRootfs(), stateRoot, cgroupParent: runCgroupParent('phase-trace') });
      await c.spawn(['true'], { stdio: 'ignore' }).wait();
      await c.destroy();
      const node = phaseTrace!.take(c.id);
      const helper = phaseTrace!.takeHelper(c.id);
      // The worker's first steps, the process's up to its exec (in the order its root is built), the worker's last.
      expect(helper.map((m) => m.phase)).toEqual(HELPER_PHASES);
      const times = helper.map((m) => m.at);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // On Node's clock (to a few µs of rounding): after the plan was built, before the report was read.
      const built = node.find((m) => m.phase === 'plan built')!.at;
      const reported = node.find((m) => m.phase === 'helper report')!.at;
      expect(times[0]).toBeGreaterThan(built - 0.01);
      expect(times[times.length - 1]).toBeLessThan(reported + 0.01);
      expect(phaseTrace!.takeHelper(c.id)).toEqual([]);
    } finally {
      fs.rmSync(stateRoot, { recursive: true, force: true });
    }
  });

  it('asks the helper for no marks with the trace off', async () => {
    const { Container } = loadWith<Lib>(undefined, '../lib');
    const plans = loadWith<typeof import('../lib/container/plan')>(undefined, '../lib/container/plan');
    expect(loadWith<TraceModule>(undefined, '../lib/process/phase-trace').phaseTrace).toBeNull();
    // The plan of a traced spawn carries phase_trace; without the trace, none does.
    const traced = loadWith<typeof import('../lib/container/plan')>('1', '../lib/container/plan');
    expect(planKeys(traced)).toContain('phase_trace');
    expect(planKeys(plans)).not.toContain('phase_trace');
    // And a container runs as before.
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-phase-trace-'));
    try {
      const c = new Container({ rootfs: ensureBusyboxRootfs(), stateRoot, cgroupParent: runCgroupParent('phase-trace') });
      expect((await c.spawn(['true'], { stdio: 'ignore' }).wait()).exitCode).toBe(0);
      await c.destroy();
    } finally {
      fs.rmSync(stateRoot, { recursive: true, force: true });
    }
  });
});
