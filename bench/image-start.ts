/**
 * Container start from an image against the same tree as a plain directory rootfs (issue 11:
 * at most 1 ms more at the median), and the disk 20 running containers of one image use beyond
 * the image (target: only their upper layers).
 *
 * The image is the busybox rootfs packed as one layer and unpacked by unpackLayer. Until
 * Container({ image }) is wired (ImageStore.pull's branch), the container gets the unpacked
 * layer as config.imageLayers, which is what that option sets: `startFromImage` below is the
 * one place to change then.
 *
 *   npx tsx bench/image-start.ts [--runs N]
 * measureImageStart()/formatImageStart() are for bench/run.ts.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import { settleWritableLayerRemovals } from '../lib/container/writable-layer';
import { unpackLayer } from '../lib/images/layer-unpack';
import { ensureBusyboxRootfs } from '../test/support/busybox-rootfs';
import { median } from './stats';

export const IMAGE_START_TARGET_MS = 1;
const CONTAINERS_AT_ONCE = 20;

export interface ImageStartResult {
  runs: number;
  imageMedianMs: number;
  directoryMedianMs: number;
  /** Disk used under the data root's containers/ by 20 running containers, in KiB (du). */
  twentyContainersKiB: number;
  /** The image's layer, for scale (du). */
  imageKiB: number;
}

const duKiB = (dir: string): number => Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);

function startFromImage(layerDir: string, options: { stateRoot: string; dataRoot: string }): Container {
  const c = new Container({ rootfs: layerDir, ...options });
  // What Container({ image }) sets: the image's layers as lower layers (rootfs stays unused).
  Object.assign(c.config, { imageLayers: [layerDir], rootfs: null, userns: null });
  return c;
}

/** The same tree as a directory rootfs, with the same isolation as the image's container (no id block). */
function fromDirectory(dir: string, options: { stateRoot: string; dataRoot: string }): Container {
  const c = new Container({ rootfs: dir, ...options });
  Object.assign(c.config, { userns: null });
  return c;
}

async function timedTrue(c: Container): Promise<number> {
  const start = process.hrtime.bigint();
  const status = await c.spawn(['/bin/true'], { stdio: 'ignore' }).wait();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await c.destroy();
  if (status.exitCode !== 0) throw new Error(`/bin/true exited with ${status.exitCode}`);
  return ms;
}

export async function measureImageStart(runs = 30): Promise<ImageStartResult> {
  const rootfs = ensureBusyboxRootfs();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-image-start-'));
  fs.chmodSync(work, 0o711);
  const roots = { stateRoot: path.join(work, 'state'), dataRoot: path.join(work, 'data') };
  try {
    const tarFile = path.join(work, 'layer.tar');
    execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', tarFile, '.']);
    const layerDir = path.join(work, 'layer');
    fs.mkdirSync(layerDir);
    await unpackLayer(fs.createReadStream(tarFile), { into: layerDir });
    fs.chmodSync(layerDir, 0o755);
    const image: number[] = [];
    const directory: number[] = [];
    for (let run = 0; run < runs + 3; run++) {
      const order = run % 2 ? ['image', 'directory'] : ['directory', 'image'];
      for (const which of order) {
        const c = which === 'image' ? startFromImage(layerDir, roots) : fromDirectory(layerDir, roots);
        const ms = await timedTrue(c);
        // The first rounds warm up.
        if (run >= 3) (which === 'image' ? image : directory).push(ms);
      }
    }
    await settleWritableLayerRemovals();
    const running: Container[] = [];
    try {
      for (let i = 0; i < CONTAINERS_AT_ONCE; i++) {
        const c = startFromImage(layerDir, roots);
        running.push(c);
        const p = c.spawn(['sh', '-c', 'echo started > /tmp/started; echo ready; exec sleep 1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
        await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
      }
      const twentyContainersKiB = duKiB(path.join(roots.dataRoot, 'containers'));
      return { runs, imageMedianMs: median(image), directoryMedianMs: median(directory), twentyContainersKiB, imageKiB: duKiB(layerDir) };
    } finally {
      await Promise.all(running.map((c) => c.destroy()));
    }
  } finally {
    await settleWritableLayerRemovals();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function formatImageStart(r: ImageStartResult): string {
  const extra = r.imageMedianMs - r.directoryMedianMs;
  return [
    `container start (spawn of /bin/true to wait(), median of ${r.runs}): from an image ${r.imageMedianMs.toFixed(2)} ms, ` +
      `the same tree as a directory rootfs ${r.directoryMedianMs.toFixed(2)} ms: ${extra >= 0 ? '+' : ''}${extra.toFixed(2)} ms ` +
      `(target at most +${IMAGE_START_TARGET_MS} ms: ${extra <= IMAGE_START_TARGET_MS ? 'met' : 'NOT met'})`,
    `${CONTAINERS_AT_ONCE} running containers of one image (${r.imageKiB} KiB): ${r.twentyContainersKiB} KiB beyond the image ` +
      `(${(r.twentyContainersKiB / CONTAINERS_AT_ONCE).toFixed(0)} KiB each: their upper layers and records)`,
  ].join('\n');
}

if (require.main === module) {
  const at = process.argv.indexOf('--runs');
  measureImageStart(at >= 0 ? Number(process.argv[at + 1]) : 30).then(
    (r) => console.log(formatImageStart(r)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
