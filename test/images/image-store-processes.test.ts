/**
 * The store shared by processes: two imports of one archive at once both succeed and store
 * each blob once; tags made by several processes at once are all kept (the list is changed
 * under a lock); an import killed with -9 leaves no partial blob and no image, the next open
 * clears its temporary file, and the import then succeeds.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageStore } from '../../lib';
import { native } from '../../lib/native/binding';
import { buildOciLayout, skopeoCopy } from '../support/image-fixtures';
import { collect, removeScripts, runScript, startScript } from '../support/node-script';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

let work: string;
let archive: string;
/** Big enough that its import takes a while, so that a kill lands in the middle of it. */
const BIG_LAYER_BYTES = 96 * 1024 * 1024;

beforeAll(() => {
  work = tempDir('tsc-image-procs-');
  const layout = buildOciLayout(path.join(work, 'layout'), {
    tag: 'big',
    layers: [{ files: { 'bin/busybox': fs.readFileSync('/bin/busybox') } }, { files: { 'data/random.bin': crypto.randomBytes(BIG_LAYER_BYTES) } }],
  });
  archive = path.join(work, 'big.tar');
  skopeoCopy(`oci:${layout}:big`, `docker-archive:${archive}:big:1`);
  fs.rmSync(layout, { recursive: true });
});
afterAll(() => {
  removeScripts();
  removeTempDirs();
});

function blobsDir(root: string): string {
  return path.join(root, 'images', 'blobs', 'sha256');
}

/** Every blob hashes to its name. */
function expectOnlyWholeBlobs(root: string): void {
  for (const name of fs.readdirSync(blobsDir(root))) {
    const hash = crypto.createHash('sha256');
    hash.update(fs.readFileSync(path.join(blobsDir(root), name)));
    expect(hash.digest('hex')).toBe(name);
  }
}

const importScript = (root: string) => `
  const store = new lib.ImageStore({ root: ${JSON.stringify(root)} });
  const images = await store.import(${JSON.stringify(archive)});
  console.log(JSON.stringify(images.map((i) => i.id)));
`;

it('two processes importing one archive at once both succeed, with one copy of each blob', async () => {
  const root = tempDir('tsc-image-procs-root-');
  const [a, b] = await Promise.all([runScript(importScript(root), {}, 60000), runScript(importScript(root), {}, 60000)]);
  expect(a).toMatchObject({ code: 0 });
  expect(b).toMatchObject({ code: 0 });
  expect(a.stdout).toBe(b.stdout);
  const images = await new ImageStore({ root }).list();
  expect(images).toHaveLength(1);
  expect(images[0].references).toEqual(['docker.io/library/big:1']);
  expect(fs.readdirSync(blobsDir(root)).sort()).toEqual([images[0].digest, images[0].id, ...images[0].layers.map((l) => l.digest)].map((d) => d.slice(7)).sort());
  expectOnlyWholeBlobs(root);
  expect(fs.readdirSync(path.join(root, 'images', 'ingest'))).toEqual([]);
});

it('tags made by several processes at once are all kept', async () => {
  const root = tempDir('tsc-image-procs-root-');
  const store = new ImageStore({ root });
  const [image] = await store.import(archive);
  const PROCESSES = 4;
  const TAGS = 10;
  const results = await Promise.all(
    Array.from({ length: PROCESSES }, (_, p) =>
      runScript(`
        const store = new lib.ImageStore({ root: ${JSON.stringify(root)} });
        for (let t = 0; t < ${TAGS}; t++) await store.tag(${JSON.stringify(image.id)}, 'p${p}/t' + t + ':1');
      `, {}, 60000),
    ),
  );
  for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
  const { references } = await store.inspect(image.id);
  expect(references).toHaveLength(1 + PROCESSES * TAGS);
  for (let p = 0; p < PROCESSES; p++) for (let t = 0; t < TAGS; t++) expect(references).toContain(`localhost/p${p}/t${t}:1`);
});

it('an import killed with -9 leaves no partial blob and no image; the next import finishes the job', async () => {
  const root = tempDir('tsc-image-procs-root-');
  const ingest = path.join(root, 'images', 'ingest');
  const child = startScript(importScript(root));
  const ended = collect(child, 60000);
  // Kill once a temporary file has data in it: mid-blob.
  let sawPartial = false;
  for (let polls = 0; polls < 20000 && child.exitCode === null; polls++) {
    const partial = fs.existsSync(ingest) && fs.readdirSync(ingest).some((n) => {
      try {
        return fs.statSync(path.join(ingest, n)).size > 0;
      } catch {
        return false;
      }
    });
    if (partial) {
      sawPartial = child.kill('SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  expect(await ended).toMatchObject({ signal: 'SIGKILL' });
  expect(sawPartial).toBe(true);
  // What the dead process left: a temporary file nobody holds, no image.
  expect(fs.readdirSync(ingest).length).toBeGreaterThan(0);
  expectOnlyWholeBlobs(root);
  const store = new ImageStore({ root });
  expect(await store.list()).toEqual([]);
  const [image] = await store.import(archive);
  expect(image.references).toEqual(['docker.io/library/big:1']);
  expect(fs.readdirSync(ingest)).toEqual([]);
  expectOnlyWholeBlobs(root);
});

it('an aborted import rejects with AbortError and leaves no blob, layer or image', async () => {
  const root = tempDir('tsc-image-procs-root-');
  const ingest = path.join(root, 'images', 'ingest');
  const store = new ImageStore({ root });
  const controller = new AbortController();
  const importing = store.import(archive, { signal: controller.signal });
  let aborted = false;
  while (!aborted) {
    if (fs.existsSync(ingest) && fs.readdirSync(ingest).some((n) => fs.statSync(path.join(ingest, n), { throwIfNoEntry: false })?.size)) {
      controller.abort();
      aborted = true;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await expect(importing).rejects.toMatchObject({ name: 'AbortError' });
  expect(await store.list()).toEqual([]);
  expect(fs.readdirSync(blobsDir(root))).toEqual([]);
  expect(fs.readdirSync(ingest)).toEqual([]);
  expect(fs.existsSync(path.join(root, 'images', 'layers')) ? fs.readdirSync(path.join(root, 'images', 'layers')).filter((n) => !n.startsWith('.')) : []).toEqual([]);
});

it("opening a store clears a dead writer's temporary file but never a live one's", async () => {
  const root = tempDir('tsc-image-procs-root-');
  const store = new ImageStore({ root });
  await store.prune();
  await store.import(archive).then(() => store.remove('big:1'));
  const ingest = path.join(root, 'images', 'ingest');
  fs.writeFileSync(path.join(ingest, 'dead-writer'), 'partial');
  const live = path.join(ingest, 'live-writer');
  const fd = fs.openSync(live, 'w');
  try {
    expect(native().tryLock(fd)).toBe(true);
    // A new store object opens (prepares) the data root again.
    await new ImageStore({ root }).import(archive);
    expect(fs.readdirSync(ingest)).toEqual(['live-writer']);
  } finally {
    fs.closeSync(fd);
  }
});

it('imports racing prunes all end with the whole image listed', async () => {
  const root = tempDir('tsc-image-procs-root-');
  const store = new ImageStore({ root });
  const pruner = new ImageStore({ root });
  for (let round = 0; round < 4; round++) {
    let importing = true;
    const prunes = (async () => {
      while (importing) {
        await pruner.prune();
        // Room for the import to take the list's lock between two prunes.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const [image] = await store.import(archive).finally(() => (importing = false));
    await prunes;
    const listed = await store.inspect(image.id);
    for (const digest of [listed.digest, listed.id, ...listed.layers.map((l) => l.digest)]) {
      expect(fs.existsSync(path.join(blobsDir(root), digest.slice(7)))).toBe(true);
    }
    expect((await store.layerDirs(image.id)).every((dir) => fs.existsSync(dir))).toBe(true);
    await store.remove(image.id);
  }
});

it("a change of the image list clears what a writer killed mid-write left: its temporary list and its lease", async () => {
  const root = tempDir('tsc-image-procs-root-');
  const store = new ImageStore({ root });
  const [image] = await store.import(archive);
  const images = path.join(root, 'images');
  // A list being written and a lease, each by a process that is gone (nobody holds their locks).
  fs.writeFileSync(path.join(images, 'index.json.99999-dead.tmp'), '{"schemaVersion":2,"manifests":[');
  fs.mkdirSync(path.join(images, 'leases'), { recursive: true });
  fs.writeFileSync(path.join(images, 'leases', '99999-dead'), `${image.layers[0].digest}\n`);
  expect((await store.inspect(image.id)).references).toEqual(['docker.io/library/big:1']);
  await store.tag(image.id, 'again:1');
  expect(fs.existsSync(path.join(images, 'index.json.99999-dead.tmp'))).toBe(false);
  await store.remove('big:1');
  await store.remove('again:1');
  expect(fs.readdirSync(path.join(images, 'leases'))).toEqual([]);
  expect(fs.readdirSync(blobsDir(root))).toEqual([]);
});
