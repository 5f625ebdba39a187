/**
 * Container start from an image against the same tree as a plain directory rootfs (issue 11:
 * at most 1 ms more at the median), and the disk 20 running containers of one image use beyond
 * the image (target: only their upper layers).
 *
 * The image is the busybox rootfs packed as one layer by umoci (another tool writes the
 * input) and imported into a store of its own: an image container is `new Container({ image })`
 * as a user writes it, which finds the image in the store, reads its config and stacks its
 * unpacked layer. The directory container gets that same unpacked layer as its `rootfs`, so
 * both start the same tree with the same overlay and the difference is what the image costs.
 * Both run in the same state and data roots, taking turns, after an untimed `sync`: the
 * writeback of the image's setup must not land in either side's rounds.
 *
 *   npx tsx bench/image-start.ts [--runs N]
 * measureImageStart()/formatImageStart() are for bench/run.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ImageStore } from '../lib';
import { settleWritableLayerRemovals } from '../lib/container/writable-layer';
import { ensureBusyboxRootfs } from '../test/support/busybox-rootfs';
import { median } from './stats';

export const IMAGE_START_TARGET_MS = 1;
/** bench/run.ts runs this many rounds (each an image start and a directory start) per --iterations. */
export const IMAGE_START_ROUNDS_PER_ITERATION = 3;
const CONTAINERS_AT_ONCE = 20;

export interface ImageStartResult {
  runs: number;
  imageMedianMs: number;
  directoryMedianMs: number;
  /** The median of (image - directory) over the rounds, each round's two starts back to back: steadier on a noisy host. */
  pairedDifferenceMs: number;
  /** Disk used under the data root's containers/ by 20 running containers, in KiB (du). */
  twentyContainersKiB: number;
  /** The image's layer, for scale (du). */
  imageKiB: number;
}

const duKiB = (dir: string): number => Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);

const IMAGE_REFERENCE = 'bench/busybox:1';

/** The busybox tree as a one-layer OCI image made by umoci, imported into `store`; resolves to its layer directory. */
async function importBusyboxImage(rootfs: string, work: string, store: ImageStore): Promise<string> {
  const layout = path.join(work, 'layout');
  const bundle = path.join(work, 'bundle');
  const run = (args: string[]): void => void execFileSync('umoci', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['init', '--layout', layout]);
  run(['new', '--image', `${layout}:1`]);
  run(['unpack', '--image', `${layout}:1`, bundle]);
  execFileSync('cp', ['-a', `${rootfs}/.`, path.join(bundle, 'rootfs')]);
  run(['repack', '--image', `${layout}:1`, bundle]);
  const [image] = await store.import(layout);
  await store.tag(image!.id, IMAGE_REFERENCE);
  fs.rmSync(bundle, { recursive: true, force: true });
  fs.rmSync(layout, { recursive: true, force: true });
  const { layerDirs } = store.resolveSync(IMAGE_REFERENCE);
  if (layerDirs.length !== 1) throw new Error(`expected one layer, the image has ${layerDirs.length}`);
  return layerDirs[0]!;
}

/** new Container() to wait() of /bin/true; destroyed after, untimed. */
async function timedTrue(make: () => Container): Promise<number> {
  const start = process.hrtime.bigint();
  const c = make();
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
    const layerDir = await importBusyboxImage(rootfs, work, new ImageStore({ root: roots.dataRoot }));
    const startFromImage = (): Container => new Container({ image: IMAGE_REFERENCE, ...roots });
    const fromDirectory = (): Container => new Container({ rootfs: layerDir, ...roots });
    spawnSync('sync');
    const image: number[] = [];
    const directory: number[] = [];
    for (let run = 0; run < runs + 3; run++) {
      const order = run % 2 ? ['image', 'directory'] : ['directory', 'image'];
      for (const which of order) {
        const ms = await timedTrue(which === 'image' ? startFromImage : fromDirectory);
        // The first rounds warm up.
        if (run >= 3) (which === 'image' ? image : directory).push(ms);
      }
    }
    const pairedDifferenceMs = median(image.map((ms, i) => ms - directory[i]!));
    await settleWritableLayerRemovals();
    const running: Container[] = [];
    try {
      for (let i = 0; i < CONTAINERS_AT_ONCE; i++) {
        const c = startFromImage();
        running.push(c);
        const p = c.spawn(['sh', '-c', 'echo started > /tmp/started; echo ready; exec sleep 1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
        await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
      }
      const twentyContainersKiB = duKiB(path.join(roots.dataRoot, 'containers'));
      return { runs, imageMedianMs: median(image), directoryMedianMs: median(directory), pairedDifferenceMs, twentyContainersKiB, imageKiB: duKiB(layerDir) };
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
      `(target at most +${IMAGE_START_TARGET_MS} ms: ${extra <= IMAGE_START_TARGET_MS ? 'met' : 'NOT met'}; ` +
      `median of the rounds' differences ${r.pairedDifferenceMs >= 0 ? '+' : ''}${r.pairedDifferenceMs.toFixed(2)} ms)`,
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
