/**
 * Unpacking is exact: images that umoci and skopeo built (test/support/test-images.ts) are
 * unpacked into the layer store, their layer directories mounted as one overlay, and the
 * merged view compared with `umoci unpack` of the same image: file list, types, modes
 * (setuid, setgid, sticky), owners, sizes, link targets, device numbers, xattrs, mtimes and
 * hard links. The same image with gzip (umoci's own), zstd and uncompressed layers, and as a
 * docker-archive.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LayerStore, chainIds } from '../../lib/images/layer-store';
import { buildTestImage, convertImage, readImageLayers, umociUnpack, type TestImage, type TestImageKind } from '../support/test-images';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { treeManifest, type TreeManifest } from '../support/tree-manifest';

const hasTool = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = ['umoci', 'skopeo', 'python3', 'zstd'].filter((t) => !hasTool(t));
const isRoot = process.getuid?.() === 0;
const describeIf = isRoot && missing.length === 0 ? describe : describe.skip;
if (!isRoot) console.warn('unpack-exact: skipped: needs root (owners, device nodes, trusted.* xattrs, overlay mounts)');
else if (missing.length > 0) console.warn(`unpack-exact: skipped: missing ${missing.join(', ')} (test/apt-packages.txt)`);

afterAll(() => removeTempDirs());

/** Unpacks every layer of the image into the store; returns the layer directories, top first. */
async function unpackImage(store: LayerStore, img: TestImage): Promise<string[]> {
  const { layers, diffIds } = readImageLayers(img);
  const ids = chainIds(diffIds);
  for (let i = 0; i < layers.length; i++) {
    await store.ensure(ids[i], i === 0 ? null : ids[i - 1], () => fs.createReadStream(layers[i].path), {
      mediaType: layers[i].mediaType,
      diffId: diffIds[i],
      digest: layers[i].digest,
      size: layers[i].size,
    });
  }
  return store.stackBelow(ids[ids.length - 1]);
}

/** As unpackImage, but every layer at once, as a pull unpacks them: each while the ones below are on their way. */
async function unpackImageAtOnce(store: LayerStore, img: TestImage): Promise<string[]> {
  const { layers, diffIds } = readImageLayers(img);
  const ids = chainIds(diffIds);
  const ensures: Promise<unknown>[] = [];
  for (let i = 0; i < layers.length; i++) {
    ensures.push(
      store.ensure(ids[i], i === 0 ? null : ids[i - 1], () => fs.createReadStream(layers[i].path), {
        mediaType: layers[i].mediaType,
        diffId: diffIds[i],
        digest: layers[i].digest,
        size: layers[i].size,
        parentReady: i === 0 ? undefined : ensures[i - 1],
      }),
    );
  }
  await Promise.all(ensures);
  return store.stackBelow(ids[ids.length - 1]);
}

function mergedView(lowerDirs: string[], mountpoint: string): TreeManifest {
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowerDirs.join(':')}`, mountpoint]);
  try {
    return treeManifest(mountpoint, { mtimes: true });
  } finally {
    execFileSync('umount', [mountpoint]);
  }
}

describeIf.each<TestImageKind>(['busybox', 'debian-files'])('the %s test image', (kind) => {
  let image: TestImage;
  let expected: TreeManifest;
  let work: string;

  beforeAll(() => {
    work = tempDir(`tsc-unpack-${kind}-`);
    image = buildTestImage(kind, path.join(work, 'image'));
    expected = treeManifest(umociUnpack(image, path.join(work, 'umoci-bundle')), { mtimes: true });
  }, 300_000);

  /** The overlay of `dirs` (top first) equals umoci's unpack. */
  const expectUmociView = (dirs: string[]) => {
    const actual = mergedView(dirs, fs.mkdtempSync(path.join(work, 'merged-')));
    expect(actual.entries).toEqual(expected.entries);
    expect(actual.hardLinks).toEqual(expected.hardLinks);
  };

  it.each(['gzip', 'zstd', 'none'] as const)('unpacked from %s layers, the overlay equals umoci unpack', async (compression) => {
    const source = compression === 'gzip' ? image : convertImage(image, path.join(work, `copy-${compression}`), { compression });
    const mediaTypes = readImageLayers(source).layers.map((l) => l.mediaType);
    const suffix = { gzip: '+gzip', zstd: '+zstd', none: '.tar' }[compression];
    expect(mediaTypes.every((t) => t.endsWith(suffix))).toBe(true);
    const store = new LayerStore(path.join(work, `data-${compression}`));
    expectUmociView(await unpackImage(store, source));
  }, 300_000);

  it('unpacked all layers at once (as a pull does), the overlay equals umoci unpack', async () => {
    expectUmociView(await unpackImageAtOnce(new LayerStore(path.join(work, 'data-at-once')), image));
  }, 300_000);

  it('unpacked from a docker-archive (plain tar layers, no media types), the overlay equals umoci unpack', async () => {
    const archive = convertImage(image, path.join(work, 'docker.tar'), { format: 'docker-archive' });
    const extracted = path.join(work, 'docker-extracted');
    fs.mkdirSync(extracted);
    execFileSync('tar', ['-xf', archive.layout, '-C', extracted]);
    const [manifest] = JSON.parse(fs.readFileSync(path.join(extracted, 'manifest.json'), 'utf8'));
    const diffIds: string[] = JSON.parse(fs.readFileSync(path.join(extracted, manifest.Config), 'utf8')).rootfs.diff_ids;
    const ids = chainIds(diffIds);
    const store = new LayerStore(path.join(work, 'data-docker'));
    for (const [i, layer] of (manifest.Layers as string[]).entries()) {
      // No media type: the compression is read from the blob's first bytes.
      await store.ensure(ids[i], i === 0 ? null : ids[i - 1], () => fs.createReadStream(path.join(extracted, layer)), { diffId: diffIds[i] });
    }
    const mountpoint = fs.mkdtempSync(path.join(work, 'merged-'));
    const actual = mergedView(await store.stackBelow(ids[ids.length - 1]), mountpoint);
    expect(actual.entries).toEqual(expected.entries);
    expect(actual.hardLinks).toEqual(expected.hardLinks);
  }, 300_000);

  it('has what the test is about: whiteouts and special files made it through', () => {
    const byPath = new Map(expected.entries.map((e) => [e.path, e]));
    if (kind === 'busybox') {
      expect(byPath.has('etc/remove-me')).toBe(false);
      expect(byPath.has('var/gone')).toBe(false);
      expect(byPath.has('bin/ls')).toBe(false);
      expect(expected.entries.filter((e) => e.path.startsWith('etc/opq/')).map((e) => e.path)).toEqual(['etc/opq/fresh']);
      expect(byPath.get('usr/bin/suid-tool')?.mode).toBe('0o4755');
      expect(byPath.get('opt/tool')?.mode).toBe('0o6750');
      expect(byPath.get('srv/shared')?.mode).toBe('0o3775');
      expect(byPath.get('usr/bin/capped')?.xattrs['security.capability']).toBe('0100000200240000000000000000000000000000');
      expect(byPath.get('dev/null')?.rdev).toBe('1:3');
      expect(byPath.get('run/fifo')?.type).toBe('fifo');
      expect(expected.hardLinks).toContainEqual(['opt/tool', 'opt/tool-link']);
    } else {
      expect(byPath.get('usr/bin/passwd')?.mode).toBe('0o4755');
      expect(byPath.has('usr/share/doc')).toBe(false);
    }
  });

  it('unpacks each layer once: a second ensure reuses it without reading the blob', async () => {
    const store = new LayerStore(path.join(work, 'data-gzip'));
    const { layers, diffIds } = readImageLayers(image);
    const ids = chainIds(diffIds);
    const opened = jest.fn(() => fs.createReadStream(layers[0].path));
    const record = await store.ensure(ids[0], null, opened, { mediaType: layers[0].mediaType, diffId: diffIds[0] });
    expect(opened).not.toHaveBeenCalled();
    expect(record.diffId).toBe(diffIds[0]);
    expect((await store.list()).map((r) => r.chainId).sort()).toEqual([...ids].sort());
    expect(fs.readdirSync(store.root).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
