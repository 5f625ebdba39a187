/**
 * Pull throughput from the loopback registry: the library's pull of a multi-layer image of
 * more than 100 MB (incompressible layers) against `skopeo copy` of the same image into an OCI
 * layout, interleaved round by round; the target is a ratio of at most 1.
 *
 * It measures ImageStore.pull into a fresh data root: download, verify and unpack of every
 * layer, as the pull benchmark asks. The CPU time of each side is reported too: on a
 * loaded machine the wall times move with the load, the CPU times much less.
 * TSC_BENCH_PULL_VERBOSE=1 prints every round (time, CPU, load) on stderr.
 *
 * Runs in a network namespace of its own (it re-executes itself under `unshare --net`):
 *   npx tsx bench/registry-pull.ts [--rounds N] [--layers-mib 28,28,28,28] [--json]
 * bench/run.ts calls runRegistryPullIsolated(), which runs this file that way with --json.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ImageStore } from '../lib/images/image-store';
import { startRegistry } from '../test/support/registry-server';
import { buildImage, skopeoPush } from '../test/support/registry-test-images';
import { median } from './stats';

export interface RegistryPullResult {
  imageBytes: number;
  rounds: number;
  pullMedianMs: number;
  skopeoMedianMs: number;
  /** pull / skopeo: at most 1 meets the target. */
  ratio: number;
  /** CPU time (user + system) of each side, medians: the pull's process, skopeo's. */
  pullCpuMedianMs: number;
  skopeoCpuMedianMs: number;
  /** The 1-minute load average at the start and at the end: a loaded machine slows both sides unevenly. */
  load: [number, number];
  /**
   * SHA-256 throughput of one core of this host (MB/s), and whether its CPU has SHA instructions
   * (x86 sha_ni, arm64 sha2; null: not known). A pull hashes every byte twice (the blob, and its
   * unpacked tar for the diff id) where skopeo copy hashes it once: without those instructions,
   * hashing is most of a pull's CPU, and on two cores it bounds the pull's time.
   */
  sha256MBps?: number;
  shaInstructions?: boolean | null;
}

/** This host's single-core SHA-256 throughput in MB/s: the best of three hashes of 64 MiB. */
function sha256Throughput(): number {
  const data = crypto.randomBytes(64 * 1024 * 1024);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    crypto.createHash('sha256').update(data).digest();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return data.length / 1e3 / best;
}

/** Whether the CPU hashes SHA-256 in hardware (its /proc/cpuinfo flags), or null when it cannot tell. */
function hasShaInstructions(): boolean | null {
  let info: string;
  try {
    info = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
  const flags = /^(flags|Features)\s*:(.*)$/m.exec(info);
  return flags ? /\b(sha_ni|sha2)\b/.test(flags[2]) : null;
}

async function timed(work: () => Promise<number>): Promise<{ ms: number; cpuMs: number }> {
  const start = process.hrtime.bigint();
  const cpuMs = await work();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs };
}

/** Download, verify and unpack (the pull includes unpacking) into a fresh data root; resolves to its CPU ms. */
async function pullOnce(registry: string, into: string): Promise<number> {
  const cpu = process.cpuUsage();
  await new ImageStore(into).pull(`${registry}/bench/big:v1`);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
}

/** skopeo's copy; resolves to its CPU ms (as /usr/bin/time reads it from the kernel). */
async function skopeoOnce(registry: string, into: string): Promise<number> {
  const { stderr } = await promisify(execFile)('/usr/bin/time', [
    '-f',
    'cpu %U %S',
    'skopeo',
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    `docker://${registry}/bench/big:v1`,
    `oci:${into}:v1`,
  ]);
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  return m ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN;
}

export async function measureRegistryPull(rounds = 5, layersMiB = [28, 28, 28, 28]): Promise<RegistryPullResult> {
  const loadBefore = os.loadavg()[0];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-pull-'));
  const registry = await startRegistry(path.join(dir, 'registry'));
  try {
    const layout = path.join(dir, 'layout');
    buildImage(layout, 'v1', layersMiB.map((mib, i) => ({ [`data/layer-${i}.bin`]: crypto.randomBytes(mib * 1024 * 1024) })));
    await skopeoPush(layout, 'v1', `${registry.host}/bench/big:v1`);
    const imageBytes = fs.readdirSync(path.join(layout, 'blobs', 'sha256')).reduce((sum, f) => sum + fs.statSync(path.join(layout, 'blobs', 'sha256', f)).size, 0);
    const pullMs: number[] = [];
    const skopeoMs: number[] = [];
    const pullCpuMs: number[] = [];
    const skopeoCpuMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always meets a warm page cache.
      const order = round % 2 === 0 ? ['pull', 'skopeo'] : ['skopeo', 'pull'];
      for (const which of order) {
        const into = path.join(dir, `${which}-${round}`);
        // Untimed: what the image's setup, the round before or an earlier section left dirty
        // goes to disk first, so that neither tool's fsyncs wait on another's writeback.
        spawnSync('sync');
        const t = await timed(() => (which === 'pull' ? pullOnce(registry.host, into) : skopeoOnce(registry.host, into)));
        (which === 'pull' ? pullMs : skopeoMs).push(t.ms);
        (which === 'pull' ? pullCpuMs : skopeoCpuMs).push(t.cpuMs);
        if (process.env.TSC_BENCH_PULL_VERBOSE) console.error(`${which} ${t.ms.toFixed(0)} ms, cpu ${t.cpuMs.toFixed(0)} ms, load ${os.loadavg()[0].toFixed(1)}`);
        fs.rmSync(into, { recursive: true, force: true });
      }
    }
    const pullMedianMs = median(pullMs);
    const skopeoMedianMs = median(skopeoMs);
    return {
      imageBytes,
      rounds,
      pullMedianMs,
      skopeoMedianMs,
      ratio: pullMedianMs / skopeoMedianMs,
      pullCpuMedianMs: median(pullCpuMs),
      skopeoCpuMedianMs: median(skopeoCpuMs),
      load: [loadBefore, os.loadavg()[0]],
      sha256MBps: sha256Throughput(),
      shaInstructions: hasShaInstructions(),
    };
  } finally {
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs this file in a network namespace of its own and returns what it measured. */
export function runRegistryPullIsolated(rounds: number): RegistryPullResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--rounds', String(rounds), '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TSC_BENCH_NETNS: '' },
  });
  if (r.status !== 0) throw new Error(`bench/registry-pull.ts exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout) as RegistryPullResult;
}

export function formatRegistryPull(r: RegistryPullResult): string {
  const mb = (r.imageBytes / 1e6).toFixed(1);
  return [
    `registry pull of ${mb} MB, median of ${r.rounds} rounds (loopback registry, own network namespace):`,
    `  ts-container pull  ${r.pullMedianMs.toFixed(0)} ms  (${(r.imageBytes / 1e3 / r.pullMedianMs).toFixed(0)} MB/s), CPU ${r.pullCpuMedianMs.toFixed(0)} ms`,
    `  skopeo copy        ${r.skopeoMedianMs.toFixed(0)} ms  (${(r.imageBytes / 1e3 / r.skopeoMedianMs).toFixed(0)} MB/s), CPU ${r.skopeoCpuMedianMs.toFixed(0)} ms`,
    `  ratio ${r.ratio.toFixed(2)} (target: at most 1.00) ${r.ratio <= 1 ? 'met' : 'NOT met'}`,
    `  load average ${r.load[0].toFixed(1)} at the start, ${r.load[1].toFixed(1)} at the end (${os.cpus().length} CPUs)`,
    ...(r.sha256MBps === undefined
      ? []
      : [
          `  this host hashes SHA-256 at ${r.sha256MBps.toFixed(0)} MB/s on one core (SHA instructions: ${r.shaInstructions === null ? 'unknown' : r.shaInstructions ? 'yes' : 'no'});`,
          '  the pull hashes each byte twice (the blob, then its unpacked tar for the diff id), skopeo copy once',
        ]),
  ].join('\n');
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  if (!process.env.TSC_BENCH_NETNS) {
    const r = spawnSync('unshare', ['--net', '--pid', '--fork', '--kill-child', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', __filename, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, TSC_BENCH_NETNS: '1' },
    });
    process.exit(r.status ?? 1);
  }
  const rounds = Number(argValue('--rounds') ?? 5);
  const layers = (argValue('--layers-mib') ?? '28,28,28,28').split(',').map(Number);
  const r = await measureRegistryPull(rounds, layers);
  console.log(process.argv.includes('--json') ? JSON.stringify(r) : formatRegistryPull(r));
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
