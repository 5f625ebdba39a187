/**
 * Pulls by several processes into one data root, each scenario in a network namespace of its
 * own (test/support/test-network.ts) with a real docker-registry behind the fault proxy, which
 * counts the blob GETs per digest: two processes pulling one image at once, and a pulling
 * process killed with -9 mid-blob, between layers and mid-unpack, then a pull that finishes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageStore } from '../../lib/images/image-store';
import { chainIds } from '../../lib/images/layer-store';
import { startFaultProxy, type FaultProxy, type LoggedRequest } from '../support/fault-proxy';
import { startRegistry } from '../support/registry-server';
import { blobPath, buildImage, skopeoPush, taggedManifest } from '../support/registry-test-images';

const IMAGE_STORE_MODULE = path.resolve(__dirname, '../../lib/images/image-store');
const REPOSITORY = 'tools/multi';

/** The image the scenarios pull: its manifest digest, config digest (id), layer blobs and chain ids. */
interface PushedImage {
  reference: string;
  digest: string;
  id: string;
  layers: { digest: string; size: number }[];
  chainIds: string[];
}

interface Setup {
  dir: string;
  proxy: FaultProxy;
  image: PushedImage;
}

/**
 * Four layers: a small one, 6 MiB of random bytes (long enough to stop in), 20000 small files
 * (an unpack long enough to stop in), and a last small one.
 */
export function buildMultiLayerImage(layout: string): void {
  const many: Record<string, string> = {};
  for (let i = 0; i < 20000; i++) many[`many/d${i % 100}/f${i}`] = `file ${i}\n`;
  buildImage(layout, 'v1', [{ 'etc/base': 'base\n' }, { 'data/random.bin': crypto.randomBytes(6 * 1024 * 1024) }, many, { 'etc/top': 'top\n' }], {
    cmd: ['/bin/sh'],
  });
}

/** `layout` holds the image as buildMultiLayerImage wrote it (made once by the test, outside the namespace). */
async function withPushedImage<T>(layout: string, work: (setup: Setup) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-pull-procs-'));
  const registry = await startRegistry(path.join(dir, 'registry'));
  const proxy = await startFaultProxy(registry.port);
  try {
    await skopeoPush(layout, 'v1', `${registry.host}/${REPOSITORY}:v1`);
    const digest = taggedManifest(layout, 'v1').digest;
    const manifest = JSON.parse(fs.readFileSync(blobPath(layout, digest), 'utf8')) as { config: { digest: string }; layers: { digest: string; size: number }[] };
    const config = JSON.parse(fs.readFileSync(blobPath(layout, manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
    const image = { reference: `${proxy.host}/${REPOSITORY}:v1`, digest, id: manifest.config.digest, layers: manifest.layers, chainIds: chainIds(config.rootfs.diff_ids) };
    return await work({ dir, proxy, image });
  } finally {
    await proxy.stop();
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A separate node process that pulls `reference` into `root` and prints the image's id. */
function startPuller(dir: string, root: string, reference: string): ChildProcess {
  const script = path.join(dir, `pull-${crypto.randomBytes(4).toString('hex')}.ts`);
  fs.writeFileSync(
    script,
    `import { ImageStore } from ${JSON.stringify(IMAGE_STORE_MODULE)};\n` +
      `new ImageStore(${JSON.stringify(root)}).pull(${JSON.stringify(reference)})` +
      `.then((image) => console.log(image.id), (e) => { console.error(e); process.exit(1); });\n`,
  );
  return spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout: stdout.trim(), stderr })));
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The blob GETs of the log, by digest. */
function blobGets(log: LoggedRequest[]): { digest: string; range?: string }[] {
  return log
    .filter((r) => r.method === 'GET' && r.via === 'proxy' && r.path.includes('/blobs/'))
    .map((r) => ({ digest: r.path.slice(r.path.lastIndexOf('/') + 1), ...(r.range ? { range: r.range } : {}) }));
}

function countByDigest(gets: { digest: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of gets) counts[g.digest] = (counts[g.digest] ?? 0) + 1;
  return counts;
}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

function names(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** What a reader of the data root sees: blobs (each checked against its name), complete layers, images. */
async function visible(root: string) {
  const blobs = path.join(root, 'images', 'blobs', 'sha256');
  const layers = path.join(root, 'images', 'layers');
  const blobNames = names(blobs);
  const layerNames = names(layers).filter((n) => !n.startsWith('.'));
  return {
    blobs: blobNames.map((n) => `sha256:${n}`).sort(),
    blobsNotMatchingTheirName: blobNames.filter((n) => crypto.createHash('sha256').update(fs.readFileSync(path.join(blobs, n))).digest('hex') !== n),
    layers: layerNames.map((n) => `sha256:${n}`).sort(),
    layersWithoutRecord: layerNames.filter((n) => !fs.existsSync(path.join(layers, n, 'layer.json'))),
    images: (await new ImageStore(root).list()).map((i) => i.id),
  };
}

/**
 * Two separate processes pull the same image into one data root at once. Every blob GET is
 * held at the proxy until both have asked for the manifest, so both are mid-pull together.
 */
export async function twoProcessesOneDownload({ layout }: { layout: string }) {
  return withPushedImage(layout, async ({ dir, proxy, image }) => {
    const root = path.join(dir, 'data');
    let release!: () => void;
    const bothStarted = new Promise<void>((resolve) => (release = resolve));
    proxy.addFault({ method: 'GET', path: /\/blobs\//, fault: { kind: 'hold', until: bothStarted }, times: Number.POSITIVE_INFINITY });
    const runs = [startPuller(dir, root, image.reference), startPuller(dir, root, image.reference)].map(finished);
    const manifestGets = () => proxy.log.filter((r) => r.method === 'GET' && r.path.includes('/manifests/')).length;
    await Promise.race([until(() => manifestGets() >= 2, 'both pullers to ask for the manifest'), Promise.all(runs)]);
    const manifestsBeforeRelease = manifestGets();
    release();
    const results = await Promise.all(runs);
    return {
      image,
      manifestsBeforeRelease,
      results: results.map((r) => ({ code: r.code, id: r.stdout, stderr: r.code === 0 ? '' : r.stderr })),
      blobGets: countByDigest(blobGets(proxy.log)),
      visible: await visible(root),
      ingestLeft: names(path.join(root, 'images', 'ingest')),
    };
  });
}

type KillPoint = 'mid-blob' | 'between-layers' | 'mid-unpack';

/**
 * A pulling process killed with -9 at `point`; then what is visible, and a pull by this process
 * that finishes the job, with the blob GETs it made.
 *  - mid-blob: the 6 MiB layer's body stops after 2 MiB; the kill comes once those are on disk.
 *  - between-layers: the last layer's GET never gets a reply; the kill comes once the layers
 *    below it are unpacked.
 *  - mid-unpack: the kill comes while the 20000-file layer is being unpacked.
 */
export async function killedPull({ layout, point }: { layout: string; point: KillPoint }) {
  return withPushedImage(layout, async ({ dir, proxy, image }) => {
    const root = path.join(dir, 'data');
    const ingest = path.join(root, 'images', 'ingest');
    const layersDir = path.join(root, 'images', 'layers');
    const stalled = 2 * 1024 * 1024;
    if (point === 'mid-blob') {
      proxy.addFault({ method: 'GET', path: new RegExp(`/blobs/${image.layers[1].digest}$`), fault: { kind: 'stall-mid-body', afterBytes: stalled }, times: 1 });
    } else if (point === 'between-layers') {
      proxy.addFault({ method: 'GET', path: new RegExp(`/blobs/${image.layers[3].digest}$`), fault: { kind: 'hold', until: new Promise(() => {}) }, times: 1 });
    }
    const child = startPuller(dir, root, image.reference);
    const run = finished(child);
    const size = (file: string) => fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    const layerDone = (chainId: string) => fs.existsSync(path.join(layersDir, hexOf(chainId), 'layer.json'));
    const unpacking = (chainId: string) => names(layersDir).some((n) => n.startsWith(`.tmp-${hexOf(chainId)}-`) && names(path.join(layersDir, n, 'diff')).length > 0);
    const reached: Record<KillPoint, () => boolean> = {
      'mid-blob': () => size(path.join(ingest, hexOf(image.layers[1].digest))) >= stalled,
      'between-layers': () => layerDone(image.chainIds[2]),
      'mid-unpack': () => unpacking(image.chainIds[2]),
    };
    await Promise.race([until(reached[point], `the pull to reach ${point}`), run.then((r) => Promise.reject(new Error(`the puller ended first: ${JSON.stringify(r)}`)))]);
    child.kill('SIGKILL');
    const killed = await run;
    const getsBeforeKill = blobGets(proxy.log.splice(0));
    // What the killed process had of each blob: whole (stored) or a part (its ingest file).
    const partials = Object.fromEntries(names(ingest).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => [`sha256:${n}`, size(path.join(ingest, n))]));
    const afterKill = await visible(root);
    const unpackedAtKill = { [image.chainIds[2]]: layerDone(image.chainIds[2]) };

    const pulled = await new ImageStore(root).pull(image.reference);
    return {
      image,
      killedBy: killed.signal,
      getsBeforeKill,
      partials,
      afterKill,
      unpackedAtKill,
      nextPullId: pulled.id,
      getsOfNextPull: blobGets(proxy.log),
      afterNextPull: await visible(root),
      ingestLeft: names(ingest),
      layerTempsLeft: names(layersDir).filter((n) => n.startsWith('.')),
    };
  });
}
