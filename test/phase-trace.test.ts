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

type TraceModule = typeof import('../lib/process/phase-trace');
type Lib = typeof import('../lib');

const ENV = 'TS_CONTAINER_PHASE_TRACE';

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
});
