/**
 * The registry scenarios: each runs inside a fresh network namespace (test/support/
 * test-network.ts), starts a real docker-registry there, fills it with skopeo from umoci-made
 * layouts, runs the library's pull or push, and returns what the test asserts on as JSON.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { pull, type PullLayerStore, type PullProgress, type RegistryReference } from '../../lib/images/pull';
import { push } from '../../lib/images/push';
import { DirectoryContentStore } from '../support/directory-content-store';
import { startFaultProxy, type FaultRule } from '../support/fault-proxy';
import { startRegistry, startTokenIssuer, type RegistryAuth } from '../support/registry-server';
import { addPlatformIndex, blobPath, buildImage, skopeoPull, skopeoPush, taggedManifest } from '../support/registry-test-images';

/** What an error looked like, for the test to assert on. */
export interface ErrorFacts {
  name: string;
  code?: string;
  status?: number;
  message: string;
}

function facts(error: unknown): ErrorFacts {
  const e = error as { name: string; code?: string; status?: number; message: string };
  return { name: e.name, code: e.code, status: e.status, message: e.message };
}

async function outcome<T>(work: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: ErrorFacts }> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, error: facts(error) };
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

function ref(host: string, repository: string, tag: string): RegistryReference {
  return { registry: host, repository, tag };
}

/** A workspace removed at the end of the scenario. */
async function inWorkspace<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-registry-'));
  try {
    return await work(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A layer store that records what the pull asks of it and checks the layer the way an unpack
 * would see it: the gunzipped stream must hash to the diff id the config names.
 */
class CheckingLayerStore implements PullLayerStore {
  readonly calls: { chainId: string; parent: string | null; digest: string; diffId: string; unpackedDigest: string }[] = [];
  async ensure(chainId: string, parent: string | null, openBlob: () => Readable, layer: { mediaType: string; diffId: string; digest: string }): Promise<void> {
    const hash = crypto.createHash('sha256');
    const source = openBlob();
    const stream = layer.mediaType.endsWith('gzip') ? source.pipe(zlib.createGunzip()) : source;
    for await (const chunk of stream) hash.update(chunk as Buffer);
    this.calls.push({ chainId, parent, digest: layer.digest, diffId: layer.diffId, unpackedDigest: `sha256:${hash.digest('hex')}` });
  }
}

/** Two layers, the first with 3 MiB of random bytes (incompressible: a body long enough to cut). */
function buildTwoLayerImage(layout: string, tag = 'v1'): void {
  buildImage(
    layout,
    tag,
    [{ 'data/random.bin': crypto.randomBytes(3 * 1024 * 1024), 'etc/hello': 'hello\n' }, { 'etc/second': 'second layer\n', 'etc/hello': 'hello again\n' }],
    { cmd: ['/bin/sh', '-c', 'echo hi'], env: ['GREETING=hi'] },
  );
}

/** The store's blobs compared with the layout's: every one byte-equal, the manifest's all there. */
function compareWithLayout(store: DirectoryContentStore, layout: string, manifestDigest: string) {
  const manifest = JSON.parse(fs.readFileSync(blobPath(layout, manifestDigest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const wanted = [manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].sort();
  const stored = store.list().sort();
  const mismatched = stored.filter((d) => sha256(fs.readFileSync(store.path(d))) !== d || !fs.readFileSync(store.path(d)).equals(fs.readFileSync(blobPath(layout, d))));
  return { wanted, stored, mismatched, leftoverIngest: fs.readdirSync(store.ingestDir) };
}

function progressSummary(events: PullProgress[]) {
  const byLayer: Record<string, { phases: string[]; lastDownload?: number; total: number }> = {};
  for (const e of events) {
    const entry = (byLayer[e.layer] ??= { phases: [], total: e.total });
    if (entry.phases[entry.phases.length - 1] !== e.phase) entry.phases.push(e.phase);
    if (e.phase === 'download') entry.lastDownload = e.bytes;
  }
  return byLayer;
}

/** Anonymous pull from a registry without auth: the blobs, the layers, the progress. */
export async function pullWithoutAuth() {
  return inWorkspace(async (dir) => {
    const registry = await startRegistry(path.join(dir, 'registry'));
    try {
      const layout = path.join(dir, 'layout');
      buildTwoLayerImage(layout);
      skopeoPush(layout, 'v1', `${registry.host}/tools/two:v1`);
      const store = new DirectoryContentStore(path.join(dir, 'store'));
      const layers = new CheckingLayerStore();
      const events: PullProgress[] = [];
      const result = await pull(store, ref(registry.host, 'tools/two', 'v1'), { layers, onProgress: (e) => events.push(e) });
      const expectedDigest = taggedManifest(layout, 'v1').digest;
      // A second pull finds everything in the store and downloads nothing.
      const again: PullProgress[] = [];
      await pull(store, ref(registry.host, 'tools/two', 'v1'), { onProgress: (e) => again.push(e) });
      return {
        expectedDigest,
        digest: result.digest,
        id: result.id,
        config: result.config.config,
        diffIds: result.diffIds,
        chainIds: result.chainIds,
        layerCalls: layers.calls,
        compared: compareWithLayout(store, layout, expectedDigest),
        progress: progressSummary(events),
        layerSizes: result.manifest.layers.map((l) => l.size),
        secondPullDownloads: again.filter((e) => e.phase === 'download').length,
      };
    } finally {
      await registry.stop();
    }
  });
}
