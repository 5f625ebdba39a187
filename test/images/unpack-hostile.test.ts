/**
 * Hostile layers fail closed: each archive below is refused with an ImageArchiveError that
 * names the entry at fault, nothing is written outside the layer directory (a victim
 * directory beside the data root stays as it was), and nothing of the layer remains: no
 * layer under its chain id, no temporary directory, even though good entries came first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { ImageArchiveError } from '../../lib/errors/errors';
import { LayerStore } from '../../lib/images/layer-store';
import { unpackLayer } from '../../lib/images/layer-unpack';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { gzipBytes, tarBytes, zstdBytes, type TarSpecEntry } from '../support/tar-writer';
import { treeManifest } from '../support/tree-manifest';

const isRoot = process.getuid?.() === 0;
const describeIf = isRoot ? describe : describe.skip;
if (!isRoot) console.warn('unpack-hostile: skipped: needs root (the store writes owners and overlay xattrs)');

afterAll(() => removeTempDirs());

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const TAR = 'application/vnd.oci.image.layer.v1.tar';
const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** Good entries first: a refusal must also take back what was already written. */
const GOOD: TarSpecEntry[] = [
  { name: 'etc/', type: '5' },
  { name: 'etc/good', data: 'written before the hostile entry\n' },
];

let root: string;
let victim: string;
let store: LayerStore;

beforeEach(() => {
  root = tempDir('tsc-hostile-');
  victim = path.join(root, 'victim');
  fs.mkdirSync(path.join(victim, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(victim, 'file'), 'the host file\n');
  store = new LayerStore(path.join(root, 'data'));
});

interface Attempt {
  blob: Buffer;
  mediaType?: string;
  diffId?: string;
  digest?: string;
  size?: number;
  maxLayerBytes?: number;
}

/** Runs the layer through LayerStore.ensure and returns its rejection, after checking that nothing stayed. */
async function refusal(attempt: Attempt): Promise<ImageArchiveError> {
  const before = treeManifest(victim);
  const tar = attempt.mediaType === undefined || attempt.mediaType === TAR ? attempt.blob : undefined;
  const diffId = attempt.diffId ?? (tar ? sha256(tar) : `sha256:${'0'.repeat(64)}`);
  let error: unknown;
  try {
    await store.ensure(diffId, null, () => Readable.from([attempt.blob]), {
      mediaType: attempt.mediaType ?? TAR,
      diffId,
      digest: attempt.digest,
      size: attempt.size,
      maxLayerBytes: attempt.maxLayerBytes,
    });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ImageArchiveError);
  expect((error as ImageArchiveError).code).toBe('EIMAGEARCHIVE');
  expect(treeManifest(victim)).toEqual(before);
  expect(fs.existsSync(path.join(root, 'escape'))).toBe(false);
  expect(await store.list()).toEqual([]);
  expect(fs.readdirSync(store.root)).toEqual([]);
  return error as ImageArchiveError;
}

const hostile = (entries: TarSpecEntry[]) => tarBytes([...GOOD, ...entries]);

describeIf('hostile layers are refused, naming the entry, and leave nothing', () => {
  it('a "../" path', async () => {
    const e = await refusal({ blob: hostile([{ name: '../../escape', data: 'x' }]) });
    expect(e.entry).toBe('../../escape');
    expect(e.message).toMatch(/"\.\." component/);
  });

  it('a ".." in the middle of a path', async () => {
    const e = await refusal({ blob: hostile([{ name: 'etc/../../victim/file', data: 'x' }]) });
    expect(e.entry).toBe('etc/../../victim/file');
  });

  it('an absolute path', async () => {
    const target = path.join(victim, 'absolute');
    const e = await refusal({ blob: hostile([{ name: target, data: 'x' }]) });
    expect(e.entry).toBe(target);
    expect(e.message).toMatch(/absolute/);
  });

  it('a symlink to an absolute directory, then a file written through it', async () => {
    const e = await refusal({
      blob: hostile([
        { name: 'etc/link', type: '2', link: victim },
        { name: 'etc/link/pwned', data: 'through the link' },
      ]),
    });
    expect(e.entry).toBe('etc/link/pwned');
    expect(e.message).toMatch(/symbolic link/);
  });

  it.each([
    ['a whiteout', { name: 'out/.wh.file' }, 'out/file'],
    ['an opaque marker', { name: 'out/dir/.wh..wh..opq' }, 'out/dir'],
    ['a hard link', { name: 'out/new-link', type: '1', link: 'etc/good' }, 'out/new-link'],
  ] as Array<[string, TarSpecEntry, string]>)('a symlink out, then %s through it', async (_name, entry, named) => {
    const e = await refusal({ blob: hostile([{ name: 'out', type: '2', link: victim }, entry]) });
    expect(e.entry).toBe(named);
    expect(e.message).toMatch(/symbolic link/);
  });

  it('a relative symlink climbing out, then a directory and a file through it', async () => {
    const e = await refusal({
      blob: hostile([
        { name: 'up', type: '2', link: '../../../../../../../../..' + victim },
        { name: 'up/dir/', type: '5' },
        { name: 'up/dir/pwned', data: 'x' },
      ]),
    });
    expect(e.entry).toBe('up/dir');
  });

  it('a hard link to a host file by a ".." path', async () => {
    const e = await refusal({ blob: hostile([{ name: 'etc/hl', type: '1', link: '../../victim/file' }]) });
    expect(e.entry).toBe('etc/hl');
    expect(e.message).toMatch(/hard link target/);
  });

  it('a hard link to an absolute host path', async () => {
    const e = await refusal({ blob: hostile([{ name: 'etc/hl', type: '1', link: path.join(victim, 'file') }]) });
    expect(e.entry).toBe('etc/hl');
  });

  it('a hard link through a symlink that leads out', async () => {
    const e = await refusal({
      blob: hostile([
        { name: 'out', type: '2', link: victim },
        { name: 'etc/hl', type: '1', link: 'out/file' },
      ]),
    });
    expect(e.entry).toBe('etc/hl');
    expect(e.message).toMatch(/symbolic link/);
    expect(fs.statSync(path.join(victim, 'file')).nlink).toBe(1);
  });

  it('a hard link to a file the layer does not have', async () => {
    const e = await refusal({ blob: hostile([{ name: 'etc/hl', type: '1', link: 'etc/missing' }]) });
    expect(e.entry).toBe('etc/hl');
    expect(e.message).toMatch(/not in this layer/);
  });

  it('a blob whose digest differs from the manifest', async () => {
    const blob = gzipBytes(hostile([]));
    const wrong = sha256(Buffer.from('another blob'));
    const e = await refusal({ blob, mediaType: GZIP, digest: wrong, size: blob.length });
    expect(e.entry).toBe(wrong);
    expect(e.message).toMatch(/digest/);
  });

  it('a blob whose size differs from the manifest', async () => {
    const blob = gzipBytes(hostile([]));
    const e = await refusal({ blob, mediaType: GZIP, digest: sha256(blob), size: blob.length - 1 });
    expect(e.entry).toBe(sha256(blob));
    expect(e.message).toMatch(/larger than/);
  });

  it('a tar whose diff id differs from the image config', async () => {
    const tar = hostile([]);
    const e = await refusal({ blob: tar, diffId: sha256(Buffer.from('other')) });
    expect(e.message).toMatch(/diff id/);
  });

  it.each([
    ['gzip', GZIP, gzipBytes],
    ['zstd', ZSTD, zstdBytes],
  ])('a %s decompression bomb past maxLayerBytes', async (_name, mediaType, compress) => {
    const tar = hostile([{ name: 'etc/zeros', data: Buffer.alloc(32 * 1024 * 1024) }]);
    const blob = compress(tar);
    expect(blob.length).toBeLessThan(1024 * 1024);
    const e = await refusal({ blob, mediaType, digest: sha256(blob), diffId: sha256(tar), maxLayerBytes: 4 * 1024 * 1024 });
    expect(e.entry).toBe(sha256(blob));
    expect(e.message).toMatch(/more than 4194304 bytes .*decompression bomb/);
  });

  it.each([
    ['a GNU sparse file', { name: 'etc/sparse', type: 'S', data: 'x' }, /cannot be represented/],
    ['a multi-volume continuation', { name: 'etc/volume', type: 'M', data: 'x' }, /cannot be represented/],
    ['an unknown type', { name: 'etc/odd', type: 'Z' }, /cannot be represented/],
    ['a pax sparse file', { name: 'etc/pax-sparse', data: 'x', pax: { 'GNU.sparse.major': '1' } }, /sparse/],
    ['an overlay xattr', { name: 'etc/redirect', type: '5', xattrs: { 'trusted.overlay.redirect': '/etc' } }, /overlayfs/],
    ['a whiteout of ".."', { name: 'etc/.wh..' }, /whiteout of no name/],
  ] as Array<[string, TarSpecEntry, RegExp]>)('%s', async (_name, entry, message) => {
    const e = await refusal({ blob: hostile([entry]) });
    expect(e.entry).toBe(entry.name);
    expect(e.message).toMatch(message);
  });

  it('a name that is not UTF-8 (it could not be written as it is)', async () => {
    const tar = Buffer.from(hostile([{ name: 'etc/caf\u00e9', data: 'x' }]));
    const at = tar.indexOf(Buffer.from('etc/caf\u00e9'));
    // Latin-1 "é" where UTF-8 has two bytes: fix the header's checksum after the edit.
    tar.set(Buffer.from([0xe9, 0]), at + 7);
    const header = tar.subarray(at, at + 512);
    header.write('        ', 148, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
    const e = await refusal({ blob: tar });
    expect(e.entry).toBe('etc/caf\u00e9');
    expect(e.message).toMatch(/not UTF-8/);
  });

  it('a truncated archive', async () => {
    const tar = hostile([{ name: 'etc/cut', data: 'x'.repeat(4000) }]);
    const e = await refusal({ blob: tar.subarray(0, tar.length - 1024 - 2048) });
    expect(e.entry).toBe('etc/cut');
    expect(e.message).toMatch(/truncated/);
  });

  it('a corrupt header (bad checksum)', async () => {
    const tar = Buffer.from(hostile([{ name: 'etc/flipped', data: 'x' }]));
    const offset = tar.indexOf('etc/flipped');
    tar[offset + 5] ^= 0x20;
    const e = await refusal({ blob: tar });
    expect(e.message).toMatch(/checksum/);
  });

  it('corrupt gzip data', async () => {
    const blob = Buffer.from(gzipBytes(hostile([{ name: 'etc/data', data: 'y'.repeat(100000) }])));
    blob.fill(0x55, 40, 200);
    const e = await refusal({ blob, mediaType: GZIP, diffId: sha256(Buffer.from('unknown')) });
    expect(e.message).toMatch(/corrupt gzip/);
  });
});

describeIf('a layer unpacked straight into a directory', () => {
  it('empties the directory again when refused', async () => {
    const into = path.join(root, 'into');
    fs.mkdirSync(into);
    const tar = hostile([{ name: 'etc/link', type: '2', link: victim }, { name: 'etc/link/pwned', data: 'x' }]);
    await expect(unpackLayer(Readable.from([tar]), { into, mediaType: TAR })).rejects.toMatchObject({
      code: 'EIMAGEARCHIVE',
      entry: 'etc/link/pwned',
    });
    expect(fs.readdirSync(into)).toEqual([]);
    expect(fs.readdirSync(victim).sort()).toEqual(['dir', 'file']);
  });

  it('stops on abort and leaves the directory empty', async () => {
    const into = path.join(root, 'into');
    fs.mkdirSync(into);
    const tar = tarBytes([...GOOD, { name: 'etc/big', data: Buffer.alloc(8 * 1024 * 1024, 1) }]);
    const controller = new AbortController();
    async function* slowly() {
      for (let offset = 0; offset < tar.length; offset += 64 * 1024) {
        if (offset === 1024 * 1024) controller.abort(new Error('stop here'));
        yield tar.subarray(offset, offset + 64 * 1024);
        await new Promise((r) => setImmediate(r));
      }
    }
    await expect(unpackLayer(Readable.from(slowly()), { into, mediaType: TAR, signal: controller.signal })).rejects.toThrow('stop here');
    expect(fs.readdirSync(into)).toEqual([]);
  });

  it('refuses a directory that is not empty', async () => {
    const into = path.join(root, 'into');
    fs.mkdirSync(into);
    fs.writeFileSync(path.join(into, 'keep'), 'x');
    await expect(unpackLayer(Readable.from([tarBytes(GOOD)]), { into, mediaType: TAR })).rejects.toThrow(/not empty/);
    expect(fs.readdirSync(into)).toEqual(['keep']);
  });
});
