/**
 * `npm run bench`, in sections:
 * - spawn: spawn-to-exit latency of `true` in the busybox rootfs, for Container.spawn (cold, the
 *   network namespace's cost shown by a `network: host` row, destroy() alone, the warm pool) and
 *   its peers (runc, crun, bwrap), each as a ratio to child_process.spawn in the same shuffled
 *   rounds; then the wall time of 100 sequential containers; then issue 14's targets
 *   (bench/speed-targets.ts), stated with the host's conditions (bench/host-conditions.ts);
 * - phases: where a spawn+wait+destroy's time goes, phase by phase (median and p95), with the
 *   library's phase trace on, in a child process (bench/phases.ts);
 * - exec: latency of exec'ing `true` into a running container, for Container.exec and its
 *   peers, as a ratio to child_process.spawn measured in the same rounds (bench/exec-runners.ts);
 * - list: Container.list() time with 100 and 1000 containers in the state root, next to
 *   runc list (bench/list-time.ts);
 * - notify: how late 1 ms timers run while one container floods seccomp notifications
 *   (bench/notify-flood.ts);
 * - scaling: spawn (in this process and as a new process's first) and list() time against the
 *   number of running containers (bench/scaling.ts);
 * - unpack: layer unpack throughput against GNU tar -x of the same layers (bench/layer-unpack.ts);
 * - pull: a pull of a >100 MB multi-layer image from a loopback registry in a network namespace
 *   of its own, against skopeo copy into an OCI layout (bench/registry-pull.ts, run as a child);
 * - image-start: container start from an image against the same tree as a directory rootfs,
 *   and the disk 20 running containers of one image use (bench/image-start.ts);
 * - network: spawn-to-exit on a bridge network against none (and podman's the same), and TCP
 *   throughput container to container over the bridge against loopback, in a test host
 *   namespace of its own (bench/network-spawn.ts).
 * A runtime that cannot start here is reported as "unavailable: <reason>". The peers come from
 * Debian's packages: `apt-get install -y runc crun bubblewrap`. crun refuses a hybrid cgroup host
 * whose cgroup2 tree has controllers: it then runs from a private mount namespace where that
 * tree looks empty (bench/tool-launcher.ts), and the table says so.
 *
 *   npm run bench [-- --iterations N] [--warmup N] [--total N] [--only a,b] [--json] [--out FILE]
 *
 * Environment: BENCH_ITERATIONS (default 50), BENCH_WARMUP (5), BENCH_TOTAL (100),
 * BENCH_TIMEOUT_MS (30000, per single run), BENCH_LIST_CALLS (20), BENCH_LIST_SIZES (100,1000).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBusyboxRootfs } from '../test/support/busybox-rootfs';
import {
  bwrapRunner, childProcessRunner, containerLimitsRunner, containerNetworkHostRunner, containerNoOverlayRunner, containerRunner, containerUnconfinedRunner,
  crunLimitsRunner, crunRunner, crunSeccompRunner, DESTROY_ROW, runcLimitsRunner, runcRunner, runcSeccompRunner, type Runner, type RunnerOptions,
} from './runners';
import { containerPoolRunner } from './pool-runner';
import { SMALL_NODE_KEY, SMALL_NODE_ROW, smallNodeRunner } from './small-node-runner';
import { formatConditions, hostConditions } from './host-conditions';
import { formatSpeedTargets, POOL_ROW, SPAWN_MEDIAN_RATIO, speedTargets } from './speed-targets';
import {
  containerApartExecRunner, containerDetachedExecRunner, containerExecRunner, containerFoundExecRunner, crunExecRunner,
  EXEC_APART_MS, runcExecRunner,
} from './exec-runners';
import { measureInterleaved, reasonOf, seededRandom, setUpAll, stateOf, type RunnerState, type Status } from './interleave';
import { ListTimeBench, type ListTimeResult } from './list-time';
import { formatNotifyFlood, measureNotifyFlood, type NotifyFloodResult } from './notify-flood';
import { formatScaling, measureScaling, type ScalingResult } from './scaling';
import { formatLayerUnpack, measureLayerUnpack, type LayerUnpackResult } from './layer-unpack';
import { formatImageStart, IMAGE_START_ROUNDS_PER_ITERATION, measureImageStart, type ImageStartResult } from './image-start';
import { formatNetworkSpawn, measureNetworkIsolated, type NetworkSpawnResult } from './network-spawn';
import { runRegistryPullIsolated, formatRegistryPull, type RegistryPullResult } from './registry-pull';
import { defaultProfileAsOci, defaultProgram, measureCompile, type CompileTimes } from './seccomp-compile';
import { ALLOW_ALL, formatLoad, measureLoad, type LoadTime } from './seccomp-load';
import { nsToMs, summarize, type Summary } from './stats';
import { formatPhases, runPhasesIsolated, type PhasesResult } from './phases';

/** Container.spawn median may be at most this many times child_process.spawn's (issue 14; bench/speed-targets.ts has all its targets). */
const TARGET_RATIO = SPAWN_MEDIAN_RATIO;
const BASELINE_ROW = 'child_process.spawn';
const TARGET_ROW = 'Container.spawn';
/** Most the limits may add to Container.spawn's median, in ms. */
const LIMITS_TARGET_MS = 1;
/** Most the default seccomp profile may add to Container.spawn's median, in ms. */
const SECCOMP_TARGET_MS = 0.3;

/** Runners whose sequential total is measured (the spec asks for Container and runc). */
const TOTAL_KEYS = ['container', 'runc', 'child_process', SMALL_NODE_KEY];
/** The baselines, run whatever --only selects in the spawn section. */
const BASELINE_KEYS = ['child_process', SMALL_NODE_KEY];

/** Container exec median may be at most this many times child_process.spawn's (same rounds). */
const EXEC_TARGET_RATIO = 3;
const EXEC_TARGET_ROW = 'Container exec';

/** --only names that select a whole section; any other name is a runtime of the spawn section. */
const SECTIONS = ['spawn', 'phases', 'exec', 'list', 'notify', 'scaling', 'unpack', 'pull', 'image-start', 'network'];

interface Args {
  iterations: number;
  warmup: number;
  total: number;
  timeoutMs: number;
  only: string[] | null;
  json: boolean;
  out: string | null;
  listCalls: number;
  listSizes: number[];
  scalingSizes: number[];
}

const USAGE = `usage: npm run bench [-- options]
  --iterations N  measured runs per runtime (env BENCH_ITERATIONS, default 50)
  --warmup N      untimed warm-up runs per runtime (env BENCH_WARMUP, default 5)
  --total N       containers in the sequential total (env BENCH_TOTAL, default 100; 0 skips it)
  --timeout MS    limit for one run (env BENCH_TIMEOUT_MS, default 30000)
  --only LIST     comma-separated sections (spawn, phases, exec, list, notify, scaling, unpack, pull,
                  image-start, network) and/or runtimes of the spawn
                  section (child_process, container, runc, crun, bwrap, …); default: all sections
  --list-calls N  timed list calls per tool and count (env BENCH_LIST_CALLS, default 20)
  --list-sizes L  comma-separated container counts for the list section (env BENCH_LIST_SIZES, default 100,1000)
  --scaling-sizes L  comma-separated counts of running containers for the scaling section
                  (spawn and list() time against N; env BENCH_SCALING_SIZES, default 0,100,1000)
  --json          print the results as JSON on stdout (progress and table go to stderr)
  --out FILE      where to write the JSON results (default: <tmpdir>/ts-container-bench-<time>.json)`;

function intArg(name: string, raw: string | undefined, def: number, min: number): number {
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function parseArgs(argv: string[]): Args {
  const env = process.env;
  const raw: Record<string, string | undefined> = {
    iterations: env.BENCH_ITERATIONS, warmup: env.BENCH_WARMUP, total: env.BENCH_TOTAL, timeout: env.BENCH_TIMEOUT_MS,
    listCalls: env.BENCH_LIST_CALLS, listSizes: env.BENCH_LIST_SIZES, scalingSizes: env.BENCH_SCALING_SIZES,
  };
  let only: string[] | null = null;
  let json = false;
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--iterations': case '-n': raw.iterations = value(); break;
      case '--warmup': raw.warmup = value(); break;
      case '--total': raw.total = value(); break;
      case '--timeout': raw.timeout = value(); break;
      case '--only': only = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--json': json = true; break;
      case '--out': out = value(); break;
      case '--list-calls': raw.listCalls = value(); break;
      case '--list-sizes': raw.listSizes = value(); break;
      case '--scaling-sizes': raw.scalingSizes = value(); break;
      case '--help': case '-h': process.stdout.write(`${USAGE}\n`); process.exit(0);
      // falls through (process.exit does not return)
      default: throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
    }
  }
  return {
    iterations: intArg('iterations', raw.iterations, 50, 1),
    warmup: intArg('warmup', raw.warmup, 5, 0),
    total: intArg('total', raw.total, 100, 0),
    timeoutMs: intArg('timeout', raw.timeout, 30_000, 100),
    only, json, out,
    listCalls: intArg('list-calls', raw.listCalls, 20, 1),
    listSizes: (raw.listSizes || '100,1000').split(',').map((v) => intArg('list-sizes', v.trim(), 0, 1)),
    scalingSizes: (raw.scalingSizes || '0,100,1000').split(',').map((v) => intArg('scaling-sizes', v.trim(), 0, 0)).sort((a, b) => a - b),
  };
}

interface RowResult extends Partial<Summary> {
  name: string;
  runtime: string;
  status: Status;
  reason?: string;
  /** Median over child_process.spawn's median. */
  ratio?: number;
  /** Where its processes ran when not on the host (crun from a private mount namespace). */
  where?: string;
}

interface TotalResult {
  name: string;
  runtime: string;
  count: number;
  status: Status;
  reason?: string;
  totalMs?: number;
  perRunMs?: number;
}

let log: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

function mountCount(): number {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return -1;
  }
}

/** One table row per runner row, each with its median's ratio to child_process.spawn's. */
function rowResults(states: RunnerState[]): RowResult[] {
  const rows: RowResult[] = [];
  for (const s of states) {
    s.runner.rows.forEach((name, k) => {
      const row: RowResult = { name, runtime: s.runner.key, status: s.status };
      if (s.reason) row.reason = s.reason;
      if (s.runner.where && s.runner.where !== 'host') row.where = s.runner.where;
      if (s.samples[k].length > 0) Object.assign(row, summarize(s.samples[k]));
      rows.push(row);
    });
  }
  const baseline = rows.find((r) => r.name === BASELINE_ROW && r.status === 'ok' && r.medianMs !== undefined);
  for (const r of rows) {
    // destroy() alone is no spawn: a ratio to one says nothing.
    if (baseline?.medianMs && r.medianMs !== undefined && r.status === 'ok' && r.name !== DESTROY_ROW) r.ratio = r.medianMs / baseline.medianMs;
  }
  return rows;
}

interface RatioTarget {
  row: string;
  maxRatio: number;
  ratio: number | null;
  met: boolean | null;
}

function ratioTarget(rows: RowResult[], row: string, maxRatio: number): RatioTarget {
  const ratio = rows.find((r) => r.name === row)?.ratio;
  return { row, maxRatio, ratio: ratio ?? null, met: ratio !== undefined ? ratio <= maxRatio : null };
}

/** "Target: <row> median <= Nx child_process.spawn: MET (…)", or why it was not measured. */
function formatRatioTarget(rows: RowResult[], t: RatioTarget): string {
  const baseline = rows.find((r) => r.name === BASELINE_ROW && r.status === 'ok' && r.medianMs !== undefined);
  const target = rows.find((r) => r.name === t.row);
  const head = `Target: ${t.row} median <= ${t.maxRatio}x ${BASELINE_ROW}: `;
  if (t.met === null) {
    const why = !baseline ? `${BASELINE_ROW} has no result` : `${t.row} ${target?.status ?? 'not run'}${target?.reason ? `: ${target.reason}` : ''}`;
    return `${head}not measured (${why})`;
  }
  return `${head}${t.met ? 'MET' : 'NOT MET'} (${t.ratio!.toFixed(2)}x: ${fmtMs(target!.medianMs)} vs ${fmtMs(baseline!.medianMs)} ms)`;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const print = args.json ? log : (line: string) => process.stdout.write(`${line}\n`);
  if (!args.json) log = (line) => process.stdout.write(`${line}\n`);

  const rootfs = ensureBusyboxRootfs();
  const opts: RunnerOptions = { rootfs, timeoutMs: args.timeoutMs };
  const only = args.only;
  // A runtime name selects the spawn section with only those runtimes, as --only did before sections.
  const wantSpawn = !only || only.some((k) => !SECTIONS.includes(k) || k === 'spawn');
  const wantPhases = !only || only.includes('phases');
  const wantExec = !only || only.includes('exec');
  const wantList = !only || only.includes('list');
  const wantNotify = !only || only.includes('notify');
  const wantScaling = !only || only.includes('scaling');
  const wantUnpack = !only || only.includes('unpack');
  const wantPull = !only || only.includes('pull');
  const wantImageStart = !only || only.includes('image-start');
  const wantNetwork = !only || only.includes('network');
  // Before any container compiles it: the first compile of the default profile is measured cold.
  let compileTimes: CompileTimes | undefined;
  let ociSeccomp: Record<string, unknown> | undefined;
  let loadTimes: LoadTime[] | undefined;
  if (wantSpawn) {
    try {
      const seccomp = (await import(pathToFileURL(require.resolve(path.resolve(__dirname, '..', 'lib', 'seccomp'))).href)) as Parameters<typeof measureCompile>[0] & { default?: unknown };
      const mod = ((seccomp as { default?: unknown }).default ?? seccomp) as Parameters<typeof measureCompile>[0];
      compileTimes = measureCompile(mod);
      ociSeccomp = defaultProfileAsOci(mod);
      try {
        loadTimes = measureLoad([{ label: 'the default profile', program: defaultProgram(mod) }, { label: 'ret ALLOW alone', program: ALLOW_ALL }], 100);
      } catch (err) {
        log(`seccomp load: unavailable: ${reasonOf(err)}`);
      }
    } catch (err) {
      log(`seccomp compile: unavailable: ${reasonOf(err)}`);
    }
  }
  const smallNode = smallNodeRunner(opts);
  const all: Runner[] = [
    childProcessRunner(opts), smallNode, containerRunner(opts), containerNetworkHostRunner(opts), containerNoOverlayRunner(opts), containerUnconfinedRunner(opts),
    containerLimitsRunner(opts),
    // The warm pool (issue 14): unavailable until lib/ has Container.pool.
    containerPoolRunner(opts),
    runcRunner(opts), runcLimitsRunner(opts), ...(ociSeccomp ? [runcSeccompRunner(opts, ociSeccomp)] : []),
    crunRunner(opts), crunLimitsRunner(opts), ...(ociSeccomp ? [crunSeccompRunner(opts, ociSeccomp)] : []),
    bwrapRunner(opts),
  ];
  const known = all.map((r) => r.key);
  for (const k of only ?? []) {
    if (!known.includes(k) && !SECTIONS.includes(k)) {
      process.stderr.write(`--only: unknown section or runtime ${JSON.stringify(k)} (known: ${[...SECTIONS, ...known].join(', ')})\n`);
      return 2;
    }
  }
  const selected = !wantSpawn ? [] : !only || only.includes('spawn') ? all
    : all.filter((r) => only.includes(r.key) || BASELINE_KEYS.includes(r.key));
  const states: RunnerState[] = selected.map(stateOf);
  // The exec section has its own child_process.spawn, measured in its own rounds: a ratio
  // compares two runtimes measured at the same moments, never across sections.
  const execStates: RunnerState[] = !wantExec ? [] : [
    childProcessRunner(opts), containerExecRunner(opts), containerApartExecRunner(opts), containerDetachedExecRunner(opts), containerFoundExecRunner(opts),
    runcExecRunner(opts), crunExecRunner(opts),
  ].map(stateOf);
  const listBench = wantList
    ? new ListTimeBench({ rootfs, sizes: args.listSizes, calls: args.listCalls, warmup: args.warmup, timeoutMs: args.timeoutMs, log: (line) => log(line) })
    : null;

  // Clean up on Ctrl-C / kill too: bundles, runc/crun state, live containers.
  let cleaned = false;
  const cleanupAll = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const s of [...states, ...execStates]) {
      try {
        await s.runner.cleanup();
      } catch (err) {
        log(`warning: cleanup of ${s.runner.key} failed: ${reasonOf(err)}`);
      }
    }
    await listBench?.cleanup();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`\n${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(128 + (os.constants.signals[sig] ?? 0)));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const conditions = await hostConditions();
  const mountsBefore = mountCount();
  const startedAt = new Date();
  const wallStart = process.hrtime.bigint();
  const totals: TotalResult[] = [];
  /** This process's resident memory after the spawn section's rounds (what child_process.spawn's fork copies). */
  let benchRssBytes: number | null = null;
  let phasesResult: PhasesResult | null = null;
  let listResult: ListTimeResult | null = null;
  let notifyResult: NotifyFloodResult | null = null;
  let scalingResult: ScalingResult | null = null;
  let unpackResult: LayerUnpackResult[] | null = null;
  let pullResult: RegistryPullResult | null = null;
  let imageStartResult: ImageStartResult | null = null;
  let networkResult: NetworkSpawnResult | null = null;
  try {
    log(`ts-container bench: /bin/true in ${rootfs}`);
    log(`Figures hold ${formatConditions(conditions)}.`);
    log(`${os.cpus().length} CPUs, Linux ${os.release()}, Node ${process.version}; ` +
      `${args.warmup} warm-up + ${args.iterations} measured runs each, interleaved`);
    log('');

    if (states.length > 0) {
      // Set up (and probe once) each runtime, warm up, then measure in shuffled rounds.
      await setUpAll(states, log);
      await measureInterleaved(states, args, seededRandom(0x5eed), log);
      benchRssBytes = process.memoryUsage().rss;

      // Sequential totals.
      if (args.total > 0) {
        for (const key of TOTAL_KEYS) {
          const s = states.find((x) => x.runner.key === key);
          if (!s) continue;
          const name = key === 'container' ? 'Container spawn+wait+destroy' : s.runner.rows[0];
          if (s.status !== 'ok') {
            totals.push({ name, runtime: key, count: args.total, status: s.status, reason: s.reason });
            continue;
          }
          log(`  ${args.total} sequential ${name}…`);
          const t0 = process.hrtime.bigint();
          try {
            for (let i = 0; i < args.total; i++) await s.runner.runOnce();
            const totalMs = nsToMs(process.hrtime.bigint() - t0);
            totals.push({ name, runtime: key, count: args.total, status: 'ok', totalMs, perRunMs: totalMs / args.total });
          } catch (err) {
            totals.push({ name, runtime: key, count: args.total, status: 'failed', reason: reasonOf(err) });
          }
        }
      }
    }

    if (wantPhases) {
      try {
        log('phases section: spawn+wait+destroy with the phase trace on, in a child process…');
        phasesResult = runPhasesIsolated(args.iterations, args.warmup);
      } catch (err) {
        log(`phases section: failed: ${reasonOf(err)}`);
      }
    }

    if (execStates.length > 0) {
      log('  exec section: one long-running container per runtime…');
      await setUpAll(execStates, log);
      await measureInterleaved(execStates, args, seededRandom(0xe8ec), log);
      // Their sleeping containers go now, not after the list section.
      for (const s of execStates) await s.runner.cleanup();
    }

    if (listBench) {
      listResult = await listBench.run();
      await listBench.cleanup();
    }

    if (wantNotify) {
      try {
        notifyResult = await measureNotifyFlood({ rootfs, flooders: 8, calls: 5000, log });
      } catch (err) {
        log(`notify section: failed: ${reasonOf(err)}`);
      }
    }
    if (wantScaling) {
      try {
        scalingResult = await measureScaling({ rootfs, sizes: args.scalingSizes, samples: Math.max(4, Math.min(args.iterations, 20)), log });
      } catch (err) {
        log(`scaling: failed: ${reasonOf(err)}`);
      }
    }
    if (wantUnpack) {
      try {
        log('unpack section: layers of host directories, ours and tar -x taking turns…');
        unpackResult = await measureLayerUnpack(Math.max(3, Math.min(args.iterations, 5)));
      } catch (err) {
        log(`unpack section: failed: ${reasonOf(err)}`);
      }
    }
    if (wantPull) {
      try {
        log('pull section: a loopback registry in a network namespace of its own…');
        // Rounds vary by 10-15% each (disk writeback, the page cache): 9 give a steadier median.
        pullResult = runRegistryPullIsolated(Math.max(3, Math.min(args.iterations, 9)));
      } catch (err) {
        log(`pull section: failed: ${reasonOf(err)}`);
      }
    }
    if (wantImageStart) {
      try {
        log('image-start section: containers from an image and from the same directory, taking turns…');
        // Three times the rounds: its target is a difference of two medians of about 10 ms,
        // each of which moves by tenths of a millisecond with the host's noise.
        imageStartResult = await measureImageStart(args.iterations * IMAGE_START_ROUNDS_PER_ITERATION);
      } catch (err) {
        log(`image-start section: failed: ${reasonOf(err)}`);
      }
    }
    if (wantNetwork) {
      try {
        log('network section: bridge against none, podman, throughput, in a test host namespace…');
        networkResult = await measureNetworkIsolated(Math.max(5, Math.min(args.iterations, 25)));
      } catch (err) {
        log(`network section: failed: ${reasonOf(err)}`);
      }
    }
  } finally {
    await cleanupAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  const mountsAfter = mountCount();

  // Results.
  const rows = rowResults(states);
  const spawnTarget = ratioTarget(rows, TARGET_ROW, TARGET_RATIO);
  // Checked when the cold container was measured (not for `--only runc`, say).
  const issue14Targets = states.some((s) => s.runner.key === 'container') ? speedTargets(rows, totals) : [];
  const target = rows.find((r) => r.name === TARGET_ROW);
  const execRows = rowResults(execStates);
  const execTarget = ratioTarget(execRows, EXEC_TARGET_ROW, EXEC_TARGET_RATIO);

  if (states.length > 0) {
    print('');
    print(formatTable(rows));
    print('');
    if (totals.length > 0) {
      print(formatTotals(totals));
      print('');
    }
    print('Container.spawn: new Container() to wait() resolved, destroy() not included; ' +
      'Container.spawn+destroy: to destroy() resolved.');
    print(`${DESTROY_ROW}: wait() resolved to destroy() resolved, of the default container (network 'none'). ` +
      `${POOL_ROW}: pool.spawn() to wait() resolved, the pool full at the start.`);
    print('Others: spawn() to the \'exit\' event, stdio ignored. p95 interpolated linearly between ranks.');
    if (benchRssBytes !== null && rows.some((r) => r.name === SMALL_NODE_ROW)) {
      const mb = (bytes: number | null) => (bytes === null ? 'not measured' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
      print(`child_process.spawn forks the Node process that calls it, so its time grows with that process's resident memory: ` +
        `this bench process's was ${mb(benchRssBytes)} after the rounds. ${SMALL_NODE_ROW}: the same call from a Node process ` +
        `that loads nothing else (${mb(smallNode.rssBytes)}), as a long-lived child of the bench.`);
    }
    const elsewhere = formatElsewhere(rows);
    if (elsewhere) print(elsewhere);
    if (issue14Targets.length > 0) print(formatSpeedTargets(issue14Targets, formatConditions(conditions)));
    if (compileTimes) {
      print(`Seccomp: the default profile compiles to ${compileTimes.instructions} BPF instructions in ${fmtMs(compileTimes.firstMs)} ms ` +
        `the first time, ${compileTimes.cachedMs.toFixed(4)} ms cached` +
        (compileTimes.podmanFirstMs !== undefined ? `; Podman's profile: ${fmtMs(compileTimes.podmanFirstMs)} ms` : '') + '.');
    }
    if (loadTimes) print(formatLoad(loadTimes));
    const unconfined = rows.find((r) => r.name === 'Container.spawn (unconfined)');
    if (target?.medianMs !== undefined && unconfined?.medianMs !== undefined) {
      const extra = target.medianMs - unconfined.medianMs;
      print(`Target: the default seccomp profile adds at most ${SECCOMP_TARGET_MS} ms at the median: ` +
        `${extra <= SECCOMP_TARGET_MS ? 'MET' : 'NOT MET'} (${extra >= 0 ? '+' : ''}${fmtMs(extra)} ms: ${fmtMs(target.medianMs)} vs ${fmtMs(unconfined.medianMs)} ms unconfined)`);
    }
    const limited = rows.find((r) => r.name === 'Container.spawn (limits)');
    if (target?.medianMs !== undefined && limited?.medianMs !== undefined) {
      const extra = limited.medianMs - target.medianMs;
      print(`Target: memory+pids+cpu limits add at most ${LIMITS_TARGET_MS} ms at the median: ` +
        `${extra <= LIMITS_TARGET_MS ? 'MET' : 'NOT MET'} (${extra >= 0 ? '+' : ''}${fmtMs(extra)} ms: ${fmtMs(limited.medianMs)} vs ${fmtMs(target.medianMs)} ms)`);
    }
  }
  if (phasesResult) {
    print('');
    print(formatPhases(phasesResult));
  }
  if (execStates.length > 0) {
    print('');
    print(`Exec of /bin/true into a running container (main process: sleep 3600), ${args.iterations} shuffled rounds:`);
    print(formatTable(execRows));
    print('');
    print('Container exec: exec() to wait() resolved, stdio ignored; (detached): a detached container, reaped by its monitor; ' +
      '(Container.get): the detached kind, reached with Container.get(id) from the state root; ' +
      `(${EXEC_APART_MS} ms apart): each exec ${EXEC_APART_MS} ms after the last run of any runtime (untimed), as a CI job's execs come: ` +
      'on cgroup2 and hybrid hosts its move into the cgroup then waits for an RCU grace period unless the host mounts cgroup2 with favordynmods.');
    print('runc/crun exec: spawn() of `<tool> exec <id> /bin/true` to the \'exit\' event, into a container from `<tool> run -d`. ' +
      'child_process.spawn: the same busybox binary on the host, measured in the same rounds.');
    const elsewhere = formatElsewhere(execRows);
    if (elsewhere) print(elsewhere);
    print(formatRatioTarget(execRows, execTarget));
  }
  if (listResult) {
    print('');
    print(`Listing a state root of N containers, ${listResult.calls} calls per tool and N, shuffled:`);
    print(formatList(listResult));
  }
  if (notifyResult) {
    print('');
    print('Seccomp notify flood (one container, its notifications served at most a few per loop turn):');
    print(formatNotifyFlood(notifyResult));
  }
  if (scalingResult) {
    print('');
    print(`Cost against N running containers (medians of ${scalingResult.samples}; a new process: of a quarter as many):`);
    print(formatScaling(scalingResult));
  }
  if (unpackResult) {
    print('');
    print(formatLayerUnpack(unpackResult));
  }
  if (pullResult) {
    print('');
    print(formatRegistryPull(pullResult));
  }
  if (imageStartResult) {
    print('');
    print(formatImageStart(imageStartResult));
  }
  if (networkResult) {
    print('');
    print(formatNetworkSpawn(networkResult));
  }
  if (mountsBefore >= 0 && mountsAfter !== mountsBefore) {
    print(`Warning: this process sees ${mountsAfter - mountsBefore} more mount(s) than before the bench.`);
  }

  const result = {
    benchmark: 'ts-container spawn-to-exit of /bin/true (busybox rootfs)',
    startedAt: startedAt.toISOString(),
    wallSeconds: nsToMs(process.hrtime.bigint() - wallStart) / 1000,
    machine: { kernel: os.release(), arch: process.arch, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version },
    conditions,
    config: {
      iterations: args.iterations, warmup: args.warmup, total: args.total, timeoutMs: args.timeoutMs, order: 'interleaved, shuffled per round', rootfs,
      sections: SECTIONS.filter((_, i) => [states.length > 0, phasesResult !== null, execStates.length > 0, listBench !== null, notifyResult !== null, scalingResult !== null,
        unpackResult !== null, pullResult !== null, imageStartResult !== null, networkResult !== null][i]),
      listCalls: args.listCalls, listSizes: args.listSizes, scalingSizes: args.scalingSizes,
    },
    baseline: BASELINE_ROW,
    nodeRssBytes: { bench: benchRssBytes, smallNode: smallNode.rssBytes },
    rows,
    totals,
    target: spawnTarget,
    targets: issue14Targets,
    seccompCompile: compileTimes ?? null,
    seccompLoad: loadTimes ?? null,
    phases: phasesResult,
    exec: execStates.length > 0 ? { baseline: BASELINE_ROW, rows: execRows, target: execTarget } : null,
    list: listResult,
    notify: notifyResult,
    scaling: scalingResult,
    unpack: unpackResult,
    pull: pullResult,
    imageStart: imageStartResult,
    network: networkResult,
    mounts: { before: mountsBefore, after: mountsAfter },
  };
  const outFile = args.out ?? path.join(os.tmpdir(), `ts-container-bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  try {
    fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    print(`Results written to ${outFile}`);
  } catch (err) {
    print(`Could not write ${outFile}: ${reasonOf(err)}`);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

function fmtMs(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** The rows whose runtime ran elsewhere than on the host, and how they were timed; null if none. */
function formatElsewhere(rows: RowResult[]): string | null {
  const elsewhere = rows.filter((r) => r.where);
  if (elsewhere.length === 0) return null;
  return `${elsewhere.map((r) => r.name).join(', ')}: run from ${elsewhere[0].where} (made once per bench run), ` +
    'spawned and timed by a Node process in it as the others are here; the request to it is not timed.';
}

function formatTable(rows: RowResult[]): string {
  const head = ['runtime', 'median ms', 'p95 ms', 'ratio', 'n'];
  const body: string[][] = [];
  const notes: string[] = [];
  for (const r of rows) {
    if (r.status === 'unavailable') {
      body.push([r.name, `unavailable: ${r.reason ?? ''}`]);
      continue;
    }
    body.push([r.name, fmtMs(r.medianMs), fmtMs(r.p95Ms), r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : '-', String(r.n ?? 0)]);
    if (r.status === 'failed') notes.push(`  ${r.name}: failed ${r.reason ?? ''}`);
  }
  return renderTable(head, body) + (notes.length ? `\n${notes.join('\n')}` : '');
}

function formatTotals(totals: TotalResult[]): string {
  const head = ['sequential total', 'count', 'total s', 'per run ms'];
  const body = totals.map((t) => t.status === 'ok'
    ? [t.name, String(t.count), (t.totalMs! / 1000).toFixed(2), fmtMs(t.perRunMs)]
    : [t.name, `${t.status}: ${t.reason ?? ''}`]);
  return renderTable(head, body);
}

function formatList(result: ListTimeResult): string {
  const head = ['tool', 'containers', 'median ms', 'p90 ms', 'µs per container', 'n'];
  const body: string[][] = [];
  const notes: string[] = [];
  for (const t of result.tools) {
    if (t.status === 'unavailable') {
      body.push([t.name, `unavailable: ${t.reason ?? ''}`]);
      continue;
    }
    for (const count of result.sizes) {
      const m = t.bySize[count];
      if (!m) body.push([`${t.name}`, `${count}: not measured (${t.reason ?? 'failed earlier'})`]);
      else if (m.medianMs === undefined) body.push([`${t.name}`, `${count}: ${m.status}: ${m.reason ?? ''}`]);
      else body.push([t.name, String(count), fmtMs(m.medianMs), fmtMs(m.p90Ms), m.perContainerUs!.toFixed(1), String(m.n)]);
    }
    if (t.status === 'failed') notes.push(`  ${t.name}: failed ${t.reason ?? ''}`);
  }
  const lines = [renderTable(head, body), ...notes, ''];
  const marginal = result.tools.filter((t) => t.marginalUs !== null);
  if (marginal.length > 0) {
    const [lo, hi] = [result.sizes[0], result.sizes[result.sizes.length - 1]];
    lines.push(`One more container costs (median at ${hi} - median at ${lo}) / ${hi - lo}: ` +
      marginal.map((t) => `${t.name} ${t.marginalUs!.toFixed(1)} µs`).join(', ') + '.');
  }
  for (const t of result.tools) lines.push(`${t.name}: real containers: ${t.real}; the rest are copies of a stopped one's state directory.`);
  lines.push('Container.list() runs in this process (p90 interpolated linearly between ranks); runc list is a process, timed from ' +
    'spawn() to \'exit\', its start included. Each list was checked once, untimed, to return every container with the expected status.');
  return lines.join('\n');
}

/** Left-aligned first column, right-aligned numbers; a 2-cell row is "name | message". */
function renderTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter((r) => r.length === head.length).map((r) => r[i].length)));
  widths[0] = Math.max(widths[0], ...body.map((r) => r[0].length));
  const line = (cells: string[]) => {
    if (cells.length !== head.length) return `${cells[0].padEnd(widths[0])}  ${cells.slice(1).join(' ')}`;
    return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  };
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...body.map(line)].join('\n');
}

main().then(
  (code) => {
    process.exitCode = code;
    // A runtime under test that leaks a handle (a child, a socket) must not keep the bench alive.
    setTimeout(() => {
      process.stderr.write('bench: handles still open 5 s after the end (a leak in a runtime under test?); exiting\n');
      process.exit(code);
    }, 5000).unref();
  },
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
