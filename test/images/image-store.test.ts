/**
 * ImageStore over archives that umoci and skopeo wrote: import of an OCI layout directory, an
 * oci-archive, a docker-archive (plain and gzip-compressed); names as podman normalizes them;
 * inspect, tag, remove, prune; export in both formats, read back by skopeo.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageArchiveError, ImageNotFoundError, ImageStore } from '../../lib';
import { buildOciLayout, busyboxImage, skopeoCopy, skopeoInspect } from '../support/image-fixtures';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

let work: string;
let layout: string;
let ociArchive: string;
let dockerArchive: string;

beforeAll(() => {
  work = tempDir('tsc-images-');
  layout = buildOciLayout(path.join(work, 'layout'), busyboxImage('1.0'));
  ociArchive = path.join(work, 'app.oci.tar');
  dockerArchive = path.join(work, 'app.docker.tar');
  skopeoCopy(`oci:${layout}:1.0`, `oci-archive:${ociArchive}:tools/app:1.0`);
  skopeoCopy(`oci:${layout}:1.0`, `docker-archive:${dockerArchive}:tools/app:1.0`);
});
afterAll(removeTempDirs);

function newStore(): ImageStore {
  return new ImageStore({ root: tempDir('tsc-data-root-') });
}

/** Every stored blob hashes to its name, and nothing is left in ingest/. */
function assertStoreConsistent(store: ImageStore): void {
  const blobs = path.join(store.dataRoot, 'images', 'blobs', 'sha256');
  for (const name of fs.readdirSync(blobs)) {
    const hex = crypto.createHash('sha256').update(fs.readFileSync(path.join(blobs, name))).digest('hex');
    expect(hex).toBe(name);
  }
  expect(fs.readdirSync(path.join(store.dataRoot, 'images', 'ingest'))).toEqual([]);
}

function diffIdsOf(reference: string): string[] {
  return (JSON.parse(execFileSync('skopeo', ['inspect', '--config', reference], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}

describe('import', () => {
  it('reads an OCI layout directory: config, layers, and the image id as skopeo reports it', async () => {
    const store = newStore();
    const [image, more] = await store.import(layout);
    expect(more).toBeUndefined();
    const raw = skopeoInspect(`oci:${layout}:1.0`, true) as { config: { digest: string }; layers: { digest: string }[] };
    expect(image.id).toBe(raw.config.digest);
    expect(image.layers.map((l) => l.digest)).toEqual(raw.layers.map((l) => l.digest));
    expect(image.config.Cmd).toEqual(['/bin/busybox']);
    expect(image.config.Env).toContain('FOO=bar');
    expect(image.config.WorkingDir).toBe('/opt/app');
    expect(image.config.Labels).toEqual({ 'made.by': 'umoci' });
    expect(image.os).toBe('linux');
    // umoci's ref.name is a bare tag: it names no repository, so the image has no reference.
    expect(image.references).toEqual([]);
    expect(await store.inspect(image.id)).toMatchObject({ id: image.id, digest: image.digest });
    assertStoreConsistent(store);
  });

  it('names an oci-archive image as podman does (localhost/ for an unqualified name)', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    expect(image.references).toEqual(['localhost/tools/app:1.0']);
    expect((await store.inspect('tools/app:1.0')).digest).toBe(image.digest);
    expect((await store.inspect('app:1.0')).digest).toBe(image.digest);
    expect((await store.inspect('localhost/tools/app:1.0')).digest).toBe(image.digest);
    await expect(store.inspect('app')).rejects.toThrow(ImageNotFoundError);
    assertStoreConsistent(store);
  });

  it("reads a docker-archive, with Docker Hub's names for its short RepoTags, and a gzip-compressed one", async () => {
    const store = newStore();
    const [image] = await store.import(dockerArchive);
    expect(image.references).toEqual(['docker.io/tools/app:1.0']);
    const raw = skopeoInspect(`oci:${layout}:1.0`, true) as { config: { digest: string } };
    expect(image.id).toBe(raw.config.digest);
    const gzipped = path.join(work, 'app.docker.tar.gz');
    execFileSync('sh', ['-c', `gzip -c < '${dockerArchive}' > '${gzipped}'`]);
    const other = newStore();
    const [again] = await other.import(gzipped);
    expect(again.id).toBe(image.id);
    expect(again.digest).toBe(image.digest);
    assertStoreConsistent(other);
  });

  it('keeps one copy of each blob when the same image comes twice, and gathers the names', async () => {
    const store = newStore();
    await store.import(ociArchive);
    await store.import(layout);
    const images = await store.list();
    expect(images).toHaveLength(1);
    expect(images[0].references).toEqual(['localhost/tools/app:1.0']);
    const blobs = fs.readdirSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256'));
    expect(blobs.sort()).toEqual([images[0].digest, images[0].id, ...images[0].layers.map((l) => l.digest)].map((d) => d.slice(7)).sort());
  });

  it('takes the platform asked for from a multi-platform index', async () => {
    const store = newStore();
    const multi = path.join(work, 'multi');
    fs.cpSync(layout, multi, { recursive: true });
    const index = JSON.parse(fs.readFileSync(path.join(multi, 'index.json'), 'utf8'));
    const amd64 = { ...index.manifests[0], platform: { os: 'linux', architecture: 'amd64' } };
    // A second platform: the same image with a config that says arm64.
    const manifest = JSON.parse(fs.readFileSync(path.join(multi, 'blobs', 'sha256', amd64.digest.slice(7)), 'utf8'));
    const config = JSON.parse(fs.readFileSync(path.join(multi, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8'));
    const armConfig = Buffer.from(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8' }));
    const put = (bytes: Buffer) => {
      const digest = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
      fs.writeFileSync(path.join(multi, 'blobs', 'sha256', digest.slice(7)), bytes);
      return { digest, size: bytes.length };
    };
    const armManifest = Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...put(armConfig) } }));
    const arm64 = { mediaType: amd64.mediaType, ...put(armManifest), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } };
    const nested = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [amd64, arm64] })));
    const top = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...nested, annotations: { 'org.opencontainers.image.ref.name': 'multi:1' } }] };
    fs.writeFileSync(path.join(multi, 'index.json'), JSON.stringify(top));

    const [arm] = await store.import(multi, { platform: 'linux/arm64' });
    expect(arm.architecture).toBe('arm64');
    expect(arm.digest).toBe(arm64.digest);
    const [amd] = await store.import(multi, { platform: 'linux/amd64' });
    expect(amd.architecture).toBe('amd64');
    expect(amd.references).toEqual(['localhost/multi:1']);
    // The name moved to the image imported last, as a tag moves in docker.
    expect((await store.inspect(arm.digest)).references).toEqual([]);
    await expect(store.import(multi, { platform: 'linux/s390x' })).rejects.toThrow(ImageArchiveError);
  });

  it('rejects what is not an image archive, naming it, and stores nothing', async () => {
    const store = newStore();
    const notTar = path.join(work, 'not-a-tar');
    fs.writeFileSync(notTar, 'hello, this is no tar archive'.repeat(40));
    await expect(store.import(notTar)).rejects.toMatchObject({ code: 'EIMAGEARCHIVE' });
    const missing = path.join(work, 'missing.tar');
    await expect(store.import(missing)).rejects.toMatchObject({ code: 'EIMAGEARCHIVE', entry: missing });
    const plainTar = path.join(work, 'plain.tar');
    execFileSync('tar', ['-cf', plainTar, '-C', work, 'not-a-tar']);
    await expect(store.import(plainTar)).rejects.toMatchObject({ code: 'EIMAGEARCHIVE', entry: plainTar });
    expect(await store.list()).toEqual([]);
    expect(fs.readdirSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256'))).toEqual([]);
  });
});

describe('names', () => {
  it('tag: a new unqualified name is localhost/NAME:TAG; a name held elsewhere moves', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    const tagged = await store.tag('tools/app:1.0', 'base');
    expect(tagged.references).toEqual(['localhost/tools/app:1.0', 'localhost/base:latest']);
    await store.tag(image.id, 'example.com:5000/team/base:2');
    expect((await store.inspect('example.com:5000/team/base:2')).id).toBe(image.id);
    expect((await store.inspect('base:2')).id).toBe(image.id);
    await expect(store.tag('nothing:here', 'x')).rejects.toThrow(ImageNotFoundError);
    await expect(store.tag(image.id, 'Not A Name')).rejects.toThrow(TypeError);
    // An id prefix finds the image too.
    expect((await store.inspect(image.id.slice(7, 19))).id).toBe(image.id);
  });

  it('inspect of a missing image rejects with ImageNotFoundError (ENOIMAGE)', async () => {
    const store = newStore();
    await expect(store.inspect('alpine:3.20')).rejects.toMatchObject({ name: 'ImageNotFoundError', code: 'ENOIMAGE' });
    await expect(store.inspect(`sha256:${'a'.repeat(64)}`)).rejects.toThrow(ImageNotFoundError);
  });

  it('a short name that several images answer to is an error, not a guess', async () => {
    const store = newStore();
    await store.import(ociArchive);
    await store.import(dockerArchive);
    await expect(store.inspect('app:1.0')).rejects.toThrow(/ambiguous/);
    expect((await store.inspect('docker.io/tools/app:1.0')).references).toEqual(['docker.io/tools/app:1.0']);
  });
});

describe('remove and prune', () => {
  it('remove takes one name off while others remain, then deletes the image and its blobs', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    await store.tag(image.id, 'second:1');
    expect(await store.remove('second:1')).toEqual({ untagged: ['localhost/second:1'], deleted: [] });
    expect((await store.inspect(image.id)).references).toEqual(['localhost/tools/app:1.0']);
    expect(await store.remove('tools/app:1.0')).toEqual({ untagged: ['localhost/tools/app:1.0'], deleted: [image.id] });
    expect(await store.list()).toEqual([]);
    expect(fs.readdirSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256'))).toEqual([]);
    await expect(store.remove('tools/app:1.0')).rejects.toThrow(ImageNotFoundError);
  });

  it('remove keeps the blobs another image shares', async () => {
    const store = newStore();
    const [fromOci] = await store.import(ociArchive);
    const [fromDocker] = await store.import(dockerArchive);
    expect(fromOci.id).toBe(fromDocker.id);
    await store.remove(fromOci.digest);
    const left = await store.inspect('docker.io/tools/app:1.0');
    for (const digest of [left.id, ...left.layers.map((l) => l.digest)]) {
      expect(fs.existsSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256', digest.slice(7)))).toBe(true);
    }
    expect(fs.existsSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256', fromOci.digest.slice(7)))).toBe(false);
  });

  it('prune deletes the blobs no image uses and says how many bytes it freed', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    const stray = Buffer.from('a blob no image names\n');
    const strayDigest = `sha256:${crypto.createHash('sha256').update(stray).digest('hex')}`;
    fs.writeFileSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256', strayDigest.slice(7)), stray);
    expect(await store.prune()).toEqual({ deleted: [strayDigest], reclaimedBytes: stray.length });
    expect((await store.inspect(image.id)).id).toBe(image.id);
    expect(await store.prune()).toEqual({ deleted: [], reclaimedBytes: 0 });
  });

  it('refuses to remove an image a container uses, unless forced', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    // The record a container of the image keeps under the data root.
    const containers = path.join(store.dataRoot, 'containers');
    fs.mkdirSync(containers, { recursive: true });
    fs.writeFileSync(path.join(containers, 'user-1.json'), JSON.stringify({ version: 1, id: 'user-1', lowerDirs: [], image: image.id }));
    await expect(store.remove('tools/app:1.0')).rejects.toMatchObject({ code: 'EIMAGEINUSE', containers: ['user-1'] });
    expect((await store.inspect(image.id)).references).toEqual(['localhost/tools/app:1.0']);
    expect(await store.remove('tools/app:1.0', { force: true })).toEqual({ untagged: ['localhost/tools/app:1.0'], deleted: [image.id] });
  });
});

describe('export', () => {
  it('writes an oci-archive and a docker-archive that skopeo reads back, and that import again to the same image', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    const outOci = path.join(work, 'out.oci.tar');
    const outDocker = path.join(work, 'out.docker.tar');
    await store.export('tools/app:1.0', outOci, { format: 'oci-archive' });
    await store.export('tools/app:1.0', outDocker, { format: 'docker-archive' });
    const oci = skopeoInspect(`oci-archive:${outOci}`, true) as { config: { digest: string } };
    expect(oci.config.digest).toBe(image.id);
    const docker = skopeoInspect(`docker-archive:${outDocker}`) as { Layers: string[] };
    expect(docker.Layers).toHaveLength(image.layers.length);
    // skopeo copy reads every layer and checks it against the config's diff ids.
    const copied = path.join(work, 'copied');
    skopeoCopy(`docker-archive:${outDocker}`, `oci:${copied}:back`);
    // (skopeo rewrites a Docker config as an OCI one on the way: the diff ids are what must agree.)
    expect(diffIdsOf(`oci:${copied}:back`)).toEqual(image.layers.map((l) => l.diffId));
    skopeoCopy(`oci-archive:${outOci}`, `oci:${copied}:back2`);

    const other = newStore();
    const [fromOci] = await other.import(outOci);
    expect(fromOci).toMatchObject({ id: image.id, digest: image.digest, references: ['localhost/tools/app:1.0'] });
    const [fromDocker] = await other.import(outDocker);
    expect(fromDocker.id).toBe(image.id);
    expect(fromDocker.references).toEqual(['localhost/tools/app:1.0']);
    expect(fs.readdirSync(work).filter((n) => n.startsWith('.out'))).toEqual([]);
  });

  it('decompresses gzip and zstd layers for a docker-archive, checking their diff ids', async () => {
    const store = newStore();
    const zstdArchive = path.join(work, 'app.zstd.tar');
    skopeoCopy(`oci:${layout}:1.0`, `oci-archive:${zstdArchive}:zstd:1`, ['--dest-compress-format', 'zstd']);
    const [image] = await store.import(zstdArchive);
    expect(image.layers.every((l) => l.mediaType.endsWith('+zstd'))).toBe(true);
    const out = path.join(work, 'zstd.docker.tar');
    await store.export(image.id, out, { format: 'docker-archive' });
    const copied = path.join(work, 'copied-zstd');
    skopeoCopy(`docker-archive:${out}`, `oci:${copied}:back`);
    expect(diffIdsOf(`oci:${copied}:back`)).toEqual(image.layers.map((l) => l.diffId));
  });

  it('leaves nothing at the destination when the image is missing or the format unknown', async () => {
    const store = newStore();
    await store.import(ociArchive);
    const out = path.join(work, 'never.tar');
    await expect(store.export('nothing:1', out)).rejects.toThrow(ImageNotFoundError);
    await expect(store.export('tools/app:1.0', out, { format: 'tarball' as 'oci-archive' })).rejects.toThrow(TypeError);
    await expect(store.export('tools/app:1.0', path.join(work, 'no-such-dir', 'x.tar'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('unpacked layers', () => {
  const layersDir = (store: ImageStore) => path.join(store.dataRoot, 'images', 'layers');
  const layerNames = (store: ImageStore) => (fs.existsSync(layersDir(store)) ? fs.readdirSync(layersDir(store)).filter((n) => /^[a-f0-9]{64}$/.test(n)) : []);

  it('an import unpacks each layer once: layerDirs gives them top first, as overlay lower layers', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    const dirs = await store.layerDirs('tools/app:1.0');
    expect(dirs).toEqual([...image.layers].reverse().map((l) => path.join(layersDir(store), l.chainId.slice(7), 'diff')));
    const [top, bottom] = dirs;
    expect(fs.statSync(path.join(bottom, 'bin', 'busybox')).mode & 0o777).toBe(0o755);
    expect(fs.readFileSync(path.join(top, 'etc', 'motd'), 'utf8')).toBe('hello\n');
    expect(fs.existsSync(path.join(top, 'bin', 'busybox'))).toBe(false);
  });

  it('two images on one base keep the base once; remove takes only what the other does not use', async () => {
    const store = newStore();
    const two = path.join(work, 'two-images');
    buildOciLayout(two, busyboxImage('a'));
    buildOciLayout(two, { tag: 'b', from: 'a', layers: [{ files: { 'etc/b': 'b\n' } }] });
    for (const tag of ['a', 'b']) {
      fs.writeFileSync(path.join(two, 'index.json'), fs.readFileSync(path.join(two, 'index.json'), 'utf8').replace(`"${tag}"`, `"two:${tag}"`));
    }
    const images = await store.import(two);
    expect(images.map((i) => i.references)).toEqual([['localhost/two:a'], ['localhost/two:b']]);
    expect(images[0].layers[0].chainId).toBe(images[1].layers[0].chainId);
    expect(layerNames(store)).toHaveLength(3);
    await store.remove('two:a');
    expect(layerNames(store).sort()).toEqual(images[1].layers.map((l) => l.chainId.slice(7)).sort());
    await store.remove('two:b');
    expect(layerNames(store)).toEqual([]);
  });

  it('prune keeps a layer a container uses, and removes it once no record names it', async () => {
    const store = newStore();
    const [image] = await store.import(ociArchive);
    const dirs = await store.layerDirs(image.id);
    const containers = path.join(store.dataRoot, 'containers');
    fs.mkdirSync(containers, { recursive: true });
    const record = path.join(containers, 'c1.json');
    fs.writeFileSync(record, JSON.stringify({ version: 1, id: 'c1', lowerDirs: dirs }));
    await expect(store.remove(image.id)).rejects.toMatchObject({ code: 'EIMAGEINUSE', containers: ['c1'] });
    await store.remove(image.id, { force: true });
    expect(await store.list()).toEqual([]);
    expect(layerNames(store)).toHaveLength(2);
    expect(fs.readFileSync(path.join(dirs[0], 'etc', 'motd'), 'utf8')).toBe('hello\n');
    fs.rmSync(record);
    const pruned = await store.prune();
    expect(pruned.deleted.sort()).toEqual(image.layers.map((l) => l.chainId).sort());
    expect(pruned.reclaimedBytes).toBeGreaterThan(fs.statSync('/bin/busybox').size);
    expect(layerNames(store)).toEqual([]);
  });

  it('a layer past maxLayerBytes fails the import, and nothing of it stays', async () => {
    const store = new ImageStore({ root: tempDir('tsc-data-root-'), maxLayerBytes: 64 * 1024 });
    await expect(store.import(ociArchive)).rejects.toMatchObject({ code: 'EIMAGEARCHIVE', message: expect.stringMatching(/maxLayerBytes/) });
    expect(await store.list()).toEqual([]);
    expect(layerNames(store)).toEqual([]);
    expect(fs.readdirSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256'))).toEqual([]);
    expect(() => new ImageStore({ root: store.dataRoot, maxLayerBytes: -1 })).toThrow(TypeError);
  });
});
