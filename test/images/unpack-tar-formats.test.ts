/**
 * The tar reader against GNU tar: a tree with what stretches the format (names and link
 * targets past 100 and 255 bytes, ids past the octal fields' reach, non-ASCII names, sizes
 * on and off the 512-byte boundary, empty files, hard links, xattrs, a FIFO, a device) is
 * archived by GNU tar in its gnu and pax formats, unpacked by unpackLayer and by GNU tar
 * itself (`tar -x --xattrs --numeric-owner` as root), and the two trees must be equal, mtimes
 * included.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { unpackLayer } from '../../lib/images/layer-unpack';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { treeManifest } from '../support/tree-manifest';

const isRoot = process.getuid?.() === 0;
const describeIf = isRoot ? describe : describe.skip;
if (!isRoot) console.warn('unpack-tar-formats: skipped: needs root (owners and devices, as GNU tar extracts them)');

afterAll(() => removeTempDirs());

function buildTree(root: string): void {
  const file = (rel: string, data: string | Buffer, mode = 0o644, uid = 0, gid = 0) => {
    const full = path.join(root, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, data);
    fs.chownSync(full, uid, gid);
    fs.chmodSync(full, mode);
  };
  const deep = `${'directory-name-of-forty-characters-long/'.repeat(4)}and-a-file-name-that-is-long-too.txt`;
  file(deep, 'past 100 bytes of path\n');
  file(`long/${'x'.repeat(250)}`, 'a 250-byte name\n');
  file('sizes/empty', '');
  file('sizes/block', Buffer.alloc(512, 1));
  file('sizes/block-plus-one', Buffer.alloc(513, 2));
  file('sizes/large', Buffer.alloc(3 * 1024 * 1024 + 17, 3));
  file('ids/big-uid', 'ids past 2097151 need base-256 or pax\n', 0o640, 3_000_000, 4_000_000);
  file('ids/setuid', '#!/bin/sh\n', 0o4711, 1000, 1000);
  file('ids/sticky-sgid', '#!/bin/sh\n', 0o3755, 0, 50);
  file('unicode/żółw-日本語-ñ', 'non-ASCII name\n');
  file('links/target', 'linked\n');
  fs.linkSync(path.join(root, 'links/target'), path.join(root, 'links/hard'));
  fs.linkSync(path.join(root, deep), path.join(root, 'links/hard-to-deep'));
  fs.symlinkSync(`../${'y'.repeat(180)}/past-100-bytes-target`, path.join(root, 'links/long-symlink'));
  fs.symlinkSync('/absolute/target', path.join(root, 'links/absolute'));
  file('xattrs/file', 'with xattrs\n');
  execFileSync('python3', ['-c', `import os; os.setxattr('${root}/xattrs/file', 'user.one', b'1'); os.setxattr('${root}/xattrs/file', 'user.binary', bytes(range(256)))`]);
  fs.mkdirSync(path.join(root, 'special'));
  execFileSync('mkfifo', ['-m', '0600', path.join(root, 'special/fifo')]);
  execFileSync('mknod', ['-m', '0640', path.join(root, 'special/tty'), 'c', '5', '0']);
  fs.mkdirSync(path.join(root, 'modes/locked'), { recursive: true });
  file('modes/locked/inside', 'in a directory without write permission\n');
  fs.chmodSync(path.join(root, 'modes/locked'), 0o555);
  fs.chownSync(path.join(root, 'modes'), 1000, 1000);
}

describeIf.each(['gnu', 'pax'])('a GNU tar archive in %s format', (format) => {
  it('unpacks to the tree GNU tar extracts', async () => {
    const work = tempDir(`tsc-tar-${format}-`);
    const source = path.join(work, 'source');
    fs.mkdirSync(source);
    buildTree(source);
    const archive = path.join(work, 'layer.tar');
    const xattrs = format === 'pax' ? ['--xattrs', '--xattrs-include=*'] : [];
    execFileSync('tar', [`--format=${format}`, ...xattrs, '--numeric-owner', '-C', source, '-cf', archive, '.']);
    const byTar = path.join(work, 'by-tar');
    const byUs = path.join(work, 'by-us');
    fs.mkdirSync(byTar);
    fs.mkdirSync(byUs);
    execFileSync('tar', [...xattrs, '--numeric-owner', '-xpf', archive, '-C', byTar]);
    const { unpackedBytes } = await unpackLayer(fs.createReadStream(archive), { into: byUs });
    expect(unpackedBytes).toBe(fs.statSync(archive).size);
    const expected = treeManifest(byTar, { mtimes: true });
    expect(treeManifest(byUs, { mtimes: true })).toEqual(expected);
    // What the comparison is about made it into the archive.
    const byPath = new Map(expected.entries.map((e) => [e.path, e]));
    expect(byPath.get('ids/big-uid')).toMatchObject({ uid: 3_000_000, gid: 4_000_000 });
    expect(byPath.get('special/tty')?.rdev).toBe('5:0');
    if (format === 'pax') expect(Object.keys(byPath.get('xattrs/file')?.xattrs ?? {}).sort()).toEqual(['user.binary', 'user.one']);
    expect(expected.hardLinks.length).toBe(2);
  });
});

describeIf('a root entry of its own', () => {
  it.each(['/', './'])('%j gives the layer root its mode; an absolute path past it is still refused', async (root) => {
    const { tarBytes } = await import('../support/tar-writer');
    const into = path.join(tempDir('tsc-tar-root-'), 'layer');
    fs.mkdirSync(into);
    await unpackLayer(Readable.from([tarBytes([{ name: root, type: '5', mode: 0o750 }, { name: 'f', data: 'x\n', mode: 0o644 }])]), { into });
    expect(fs.statSync(into).mode & 0o7777).toBe(0o750);
    expect(fs.readFileSync(path.join(into, 'f'), 'utf8')).toBe('x\n');
    const other = path.join(tempDir('tsc-tar-abs-'), 'layer');
    fs.mkdirSync(other);
    await expect(unpackLayer(Readable.from([tarBytes([{ name: root, type: '5', mode: 0o755 }, { name: '/etc/f', data: 'x' }])]), { into: other })).rejects.toThrow(/absolute/);
  });
});
