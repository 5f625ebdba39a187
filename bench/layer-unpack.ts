/**
 * Unpack throughput: unpackLayer (lib/images/layer-unpack.ts) against GNU `tar -x` of the
 * same layers, as the pull benchmark asks (target: at least 0.8x tar's throughput).
 * The layers are tars of host directories (at least 100 MB in all), each unpacked into a
 * fresh directory, gzip-compressed and plain, the two tools taking turns run after run; the
 * ratio is tar's median time over ours (above 1: faster than tar).
 *
 *   npx tsx bench/layer-unpack.ts [--runs N] [--json]
 * Also used as a module: measureLayerUnpack(), formatLayerUnpack().
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Most the unpack may be slower than GNU tar: its throughput must be at least this share of tar's. */
export const UNPACK_TARGET_RATIO = 0.8;

/** Host directories that make up the layers (skipped when absent), taken until they pass 100 MB. */
const SOURCES = ['/usr/sbin', '/usr/share/doc', '/usr/share/perl', '/usr/lib/python3', '/usr/bin', '/usr/lib/x86_64-linux-gnu', '/usr/share'];
const MIN_TOTAL_BYTES = 100 * 1024 * 1024;

export interface LayerUnpackResult {
  compression: 'gzip' | 'none';
  /** Uncompressed bytes of all layers. */
  bytes: number;
  /** Median seconds to unpack all layers, per tool. */
  tarSeconds: number;
  oursSeconds: number;
  /** tar's time over ours: the throughput ratio. */
  ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Builds the layers under `work`: layer-N.tar and layer-N.tar.gz. */
function makeLayers(work: string): { tar: string[]; gzip: string[]; bytes: number } {
  const tar: string[] = [];
  const gzip: string[] = [];
  let bytes = 0;
  for (const source of SOURCES) {
    if (bytes >= MIN_TOTAL_BYTES) break;
    if (!fs.existsSync(source)) continue;
    const file = path.join(work, `layer-${tar.length}.tar`);
    execFileSync('tar', ['-C', path.dirname(source), '--numeric-owner', '-cf', file, path.basename(source)], { stdio: 'ignore' });
    execFileSync('sh', ['-c', `gzip -1 -c "${file}" > "${file}.gz"`]);
    tar.push(file);
    gzip.push(`${file}.gz`);
    bytes += fs.statSync(file).size;
  }
  if (bytes < MIN_TOTAL_BYTES) throw new Error(`the host directories give only ${bytes} bytes of layers`);
  return { tar, gzip, bytes };
}

async function timeOurs(layers: string[], into: string): Promise<number> {
  const { unpackLayer } = await import('../lib/images/layer-unpack');
  const start = performance.now();
  for (const [i, layer] of layers.entries()) {
    const dir = path.join(into, String(i));
    fs.mkdirSync(dir);
    await unpackLayer(fs.createReadStream(layer, { highWaterMark: 1024 * 1024 }), { into: dir });
  }
  return (performance.now() - start) / 1000;
}

function timeTar(layers: string[], into: string): number {
  const start = performance.now();
  for (const [i, layer] of layers.entries()) {
    const dir = path.join(into, String(i));
    fs.mkdirSync(dir);
    execFileSync('tar', ['--numeric-owner', '-xpf', layer, '-C', dir], { stdio: 'ignore' });
  }
  return (performance.now() - start) / 1000;
}

export async function measureLayerUnpack(runs = 5): Promise<LayerUnpackResult[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-unpack-'));
  try {
    const layers = makeLayers(work);
    const results: LayerUnpackResult[] = [];
    for (const compression of ['gzip', 'none'] as const) {
      const files = compression === 'gzip' ? layers.gzip : layers.tar;
      const tarTimes: number[] = [];
      const ourTimes: number[] = [];
      for (let run = 0; run < runs; run++) {
        // Taking turns, each into a fresh directory removed (and synced) before the next run.
        for (const tool of run % 2 ? (['ours', 'tar'] as const) : (['tar', 'ours'] as const)) {
          const into = fs.mkdtempSync(path.join(work, `${tool}-`));
          execFileSync('sync');
          if (tool === 'tar') tarTimes.push(timeTar(files, into));
          else ourTimes.push(await timeOurs(files, into));
          fs.rmSync(into, { recursive: true, force: true });
        }
      }
      const tarSeconds = median(tarTimes);
      const oursSeconds = median(ourTimes);
      results.push({ compression, bytes: layers.bytes, tarSeconds, oursSeconds, ratio: tarSeconds / oursSeconds });
    }
    return results;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function formatLayerUnpack(results: LayerUnpackResult[]): string {
  const lines = ['layer unpack (throughput against GNU tar -x of the same layers)'];
  for (const r of results) {
    const mb = r.bytes / (1024 * 1024);
    const verdict = r.ratio >= UNPACK_TARGET_RATIO ? 'ok' : 'BELOW TARGET';
    lines.push(
      `  ${r.compression.padEnd(5)} ${mb.toFixed(0)} MB: tar ${(mb / r.tarSeconds).toFixed(0)} MB/s, ` +
        `unpackLayer ${(mb / r.oursSeconds).toFixed(0)} MB/s, ratio ${r.ratio.toFixed(2)}x (target >= ${UNPACK_TARGET_RATIO}x: ${verdict})`,
    );
  }
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  measureLayerUnpack(runs).then(
    (results) => console.log(args.includes('--json') ? JSON.stringify(results, null, 2) : formatLayerUnpack(results)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
