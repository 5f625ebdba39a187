/**
 * The phases section: N sequential spawn+wait+destroy of `true` (default container, busybox
 * rootfs) with the library's phase trace on (TS_CONTAINER_PHASE_TRACE=1, lib/process/phase-trace.ts),
 * and the median and p95 of each phase. It runs in a child process of its own: the trace is
 * fixed when lib/ loads, so the other sections measure the library with it off.
 *
 *   npx tsx bench/phases.ts [--iterations N] [--warmup N] [--json]
 *
 * A phase is named by the mark that ends it and lasts from the mark before (the first one:
 * from just before `new Container()`). 'wait() resolved' and 'destroy() resolved' are marked
 * here, as the caller sees them; the rest by the library.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { ensureBusyboxRootfs } from '../test/support/busybox-rootfs';
import { loadContainerClass } from './container-api';
import { quantileSorted } from './stats';
import { withTimeout } from './runners';
import { formatConditions, hostConditions, type HostConditions } from './host-conditions';
import { typeScriptLoader } from './tool-launcher';

interface PhaseMark {
  phase: string;
  at: number;
}

interface PhaseTraceLike {
  mark(id: string, phase: string): void;
  take(id: string): PhaseMark[];
  /** The helper's own marks (native/helper/phase_marks.h); absent in older builds. */
  takeHelper?(id: string): PhaseMark[];
}

export interface PhaseRow {
  phase: string;
  /** Runs in which this phase was marked (a phase may be skipped, e.g. a hook point with no hook). */
  n: number;
  medianMs: number;
  p95Ms: number;
}

export interface PhasesResult {
  iterations: number;
  warmup: number;
  cpus: number;
  /** Cores, load at the start, the state root and its filesystem (absent in older results). */
  conditions?: HostConditions;
  rows: PhaseRow[];
  /**
   * Inside 'helper report': the helper's steps, each from the helper's mark before it (the
   * first from Node's 'helper launched'), then the report's way back to Node's 'helper report'.
   */
  helperRows?: PhaseRow[];
  /** new Container() to wait() resolved, and wait() resolved to destroy() resolved. */
  spawn: { medianMs: number; p95Ms: number };
  destroy: { medianMs: number; p95Ms: number };
}

const ENV = 'TS_CONTAINER_PHASE_TRACE';
const LAUNCHED = 'helper launched';
const REPORTED = 'helper report';
/** The last helper row: from the helper's last mark to Node's 'helper report'. */
const REPORT_BACK = 'report back in Node';
const WAITED = 'wait() resolved';
const DESTROYED = 'destroy() resolved';
const TIMEOUT_MS = 30_000;

function traceOf(): PhaseTraceLike {
  const trace = (globalThis as unknown as Record<symbol, PhaseTraceLike | undefined>)[Symbol.for('ts-container.phaseTrace')];
  if (!trace) throw new Error(`lib/ has no phase trace (lib/process/phase-trace.ts with ${ENV}=1)`);
  return trace;
}

function quantiles(values: number[]): { medianMs: number; p95Ms: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { medianMs: quantileSorted(sorted, 0.5), p95Ms: quantileSorted(sorted, 0.95) };
}

/** In the traced process: the runs, and each phase's durations over them. */
export async function measurePhases(iterations: number, warmup: number): Promise<PhasesResult> {
  const rootfs = ensureBusyboxRootfs();
  const conditions = await hostConditions();
  const Container = await loadContainerClass();
  const trace = traceOf();
  const byPhase = new Map<string, number[]>();
  const byHelperPhase = new Map<string, number[]>();
  const spawnMs: number[] = [];
  const destroyMs: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    const t0 = performance.now();
    const c = new Container({ rootfs });
    try {
      const st = await withTimeout(c.spawn(['/bin/true'], { stdio: 'ignore' }).wait(), TIMEOUT_MS, 'Container wait()');
      if (st.exitCode !== 0) throw new Error(`/bin/true: exit code ${st.exitCode}, signal ${st.signal}`);
      trace.mark(c.id, WAITED);
    } finally {
      await withTimeout(c.destroy(), TIMEOUT_MS, 'Container destroy()');
    }
    trace.mark(c.id, DESTROYED);
    const marks = trace.take(c.id);
    const helperMarks = trace.takeHelper?.(c.id) ?? [];
    if (i < warmup) continue;
    const durations = new Map<string, number>();
    marks.forEach((m, k) => durations.set(m.phase, (durations.get(m.phase) ?? 0) + m.at - (k === 0 ? t0 : marks[k - 1].at)));
    for (const [phase, ms] of durations) {
      if (!byPhase.has(phase)) byPhase.set(phase, []);
      byPhase.get(phase)!.push(ms);
    }
    const launched = marks.find((m) => m.phase === LAUNCHED);
    const reported = marks.find((m) => m.phase === REPORTED);
    if (launched && reported && helperMarks.length > 0) {
      const steps = [...helperMarks, { phase: REPORT_BACK, at: reported.at }];
      steps.forEach((m, k) => {
        if (!byHelperPhase.has(m.phase)) byHelperPhase.set(m.phase, []);
        byHelperPhase.get(m.phase)!.push(m.at - (k === 0 ? launched.at : steps[k - 1].at));
      });
    }
    const waited = marks.find((m) => m.phase === WAITED)!.at;
    spawnMs.push(waited - t0);
    destroyMs.push(marks[marks.length - 1].at - waited);
  }
  const rowsOf = (by: Map<string, number[]>): PhaseRow[] => [...by].map(([phase, values]) => ({ phase, n: values.length, ...quantiles(values) }));
  const helperRows = rowsOf(byHelperPhase);
  return {
    iterations,
    warmup,
    cpus: os.cpus().length,
    conditions,
    rows: rowsOf(byPhase),
    ...(helperRows.length > 0 ? { helperRows } : {}),
    spawn: quantiles(spawnMs),
    destroy: quantiles(destroyMs),
  };
}

/** Runs this file with the trace on, in a child process, and returns what it measured. */
export function runPhasesIsolated(iterations: number, warmup: number): PhasesResult {
  const r = spawnSync(process.execPath, [...typeScriptLoader(), __filename, '--iterations', String(iterations), '--warmup', String(warmup), '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, [ENV]: '1' },
  });
  if (r.status !== 0) throw new Error(`bench/phases.ts exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout) as PhasesResult;
}

export function formatPhases(r: PhasesResult): string {
  const fmt = (v: number) => (v >= 10 ? v.toFixed(1) : v.toFixed(3));
  const all = [...r.rows, ...(r.helperRows ?? [])];
  const width = Math.max(...all.map((row) => row.phase.length), 'phase (ended by)'.length);
  const table = (rows: PhaseRow[]) => [
    `${'phase (ended by)'.padEnd(width)}  median ms    p95 ms   n`,
    `${'-'.repeat(width)}  ---------  --------  --`,
    ...rows.map((row) => `${row.phase.padEnd(width)}  ${fmt(row.medianMs).padStart(9)}  ${fmt(row.p95Ms).padStart(8)}  ${row.n}`),
  ];
  const lines = [
    `Phases of spawn+wait+destroy of /bin/true, default container, ${r.iterations} sequential runs ` +
      `after ${r.warmup} warm-up, trace on (${ENV}=1), ${r.conditions ? formatConditions(r.conditions) : `${r.cpus} CPUs`}:`,
    ...table(r.rows),
    `spawn (new Container() to wait() resolved): median ${fmt(r.spawn.medianMs)} ms, p95 ${fmt(r.spawn.p95Ms)} ms; ` +
      `destroy (to destroy() resolved): median ${fmt(r.destroy.medianMs)} ms, p95 ${fmt(r.destroy.p95Ms)} ms.`,
    'Each phase lasts from the mark before it; a phase\'s median is not additive with the others\'.',
  ];
  if (r.helperRows) {
    lines.push(
      `Inside '${LAUNCHED}' to '${REPORTED}': the helper's own marks (its worker's, then the container process's ` +
        `up to its exec, then the worker's), the first from '${LAUNCHED}', the last ('${REPORT_BACK}') to '${REPORTED}':`,
      ...table(r.helperRows),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const value = (flag: string, def: number): number => {
    const i = argv.indexOf(flag);
    const n = i >= 0 ? Number(argv[i + 1]) : def;
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: expected an integer >= 0`);
    return n;
  };
  const iterations = Math.max(1, value('--iterations', 50));
  const warmup = value('--warmup', 5);
  // Run directly without the trace on: the same, in a child that has it.
  const result = process.env[ENV] === '1' ? await measurePhases(iterations, warmup) : runPhasesIsolated(iterations, warmup);
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(result)}\n` : `${formatPhases(result)}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/phases.ts: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
