/**
 * Commit is exact as unpacking is (issue 11): a container changes what a layer can hold, each
 * in a way the first commit test does not reach (xattrs on a symlink and a device node,
 * nanosecond mtimes (one before 1970), its root directory's own mode, owner, mtime and xattrs, hard links
 * across directories, a socket that no layer holds), and the committed image, exported and
 * converted by skopeo, unpacks with umoci to the tree the container saw: the merged view of
 * its layers. A container of the committed image (its layers in the store) sees that tree too;
 * one in a user namespace sees the image's owners, and its commit holds its own ids.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container, ImageStore } from '../../lib';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { skopeoCopy } from '../support/image-fixtures';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { treeManifest, type TreeManifest } from '../support/tree-manifest';
import { runCgroupParent, uniqueId } from '../support/unique';

jest.setTimeout(180_000);

const hasTool = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const missing = ['umoci', 'skopeo', 'python3'].filter((t) => !hasTool(t));
const testIf = missing.length === 0 ? test : test.skip;
if (missing.length > 0) console.warn(`commit-exact: skipped: missing ${missing.join(', ')} (test/apt-packages.txt)`);

const cgroupParent = runCgroupParent('commit-exact');
let base: string;
/** Set by the first test: the data and state roots holding the image exact:1. */
let roots: { dataRoot: string; stateRoot: string } | undefined;

beforeAll(() => {
  base = tempDir('tsc-commit-exact-');
  fs.chmodSync(base, 0o711);
});

afterAll(() => removeTempDirs());

/** What the container changes with its own tools. */
const CHANGES = [
  'mknod /null-again c 1 3',
  'ln -s ../bin/busybox /sym',
  'echo h > /hl-a && mkdir /hl-dir && ln /hl-a /hl-dir/hl-b && ln /hl-a /hl-c',
  'echo t > /timed && mkdir /timed-dir',
  'rm /bin/vi',
  'chown 5:6 / && chmod 750 /',
].join(' && ');

/** What only the host can do to the upper layer: trusted.* xattrs, nanosecond times, a socket. */
const HOST_CHANGES = String.raw`
import os, socket, sys
upper = sys.argv[1]
p = lambda rel: os.path.join(upper, rel)
os.setxattr(p('sym'), 'trusted.test.on-symlink', b'sym', follow_symlinks=False)
os.setxattr(p('null-again'), 'trusted.test.on-device', b'dev', follow_symlinks=False)
os.setxattr(upper, 'user.test.root', b'root')
os.chdir(upper)
s = socket.socket(socket.AF_UNIX)
s.bind('sock')
s.close()
open(p('before-1970'), 'w').close()
for rel, ns in (('timed', 1600000000123456789), ('timed-dir', 1600000001000000500), ('sym', 1600000002500000000), ('null-again', 1600000003000000001), ('before-1970', -1500000000)):
    os.utime(p(rel), ns=(ns, ns), follow_symlinks=False)
# Last: every change above touched the root's own mtime.
os.utime(upper, ns=(1600000004987654321, 1600000004987654321))
`;

/** The tree of `lowerDirs` stacked (top first) as a read-only overlay, as a container sees its root. */
function mergedView(lowerDirs: string[]): TreeManifest {
  const mountpoint = fs.mkdtempSync(path.join(base, 'merged-'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowerDirs.join(':')}`, mountpoint]);
  try {
    return treeManifest(mountpoint, { mtimes: true });
  } finally {
    execFileSync('umount', [mountpoint]);
  }
}

async function umociTree(store: ImageStore, reference: string): Promise<TreeManifest> {
  const name = reference.replace(/[^a-z0-9]/g, '-');
  const archive = path.join(base, `${name}.tar`);
  await store.export(reference, archive, { format: 'oci-archive' });
  const layout = path.join(base, `layout-${name}`);
  skopeoCopy(`oci-archive:${archive}`, `oci:${layout}:img`);
  const bundle = path.join(base, `bundle-${name}`);
  execFileSync('umoci', ['unpack', '--image', `${layout}:img`, bundle], { stdio: 'ignore' });
  return treeManifest(path.join(bundle, 'rootfs'), { mtimes: true });
}

testIf('a commit unpacks (umoci, and the store) to exactly the tree the container saw', async () => {
  const rootfs = path.join(base, 'rootfs');
  execFileSync('cp', ['-a', ensureBusyboxRootfs(), rootfs]);
  const dataRoot = path.join(base, 'data');
  const stateRoot = path.join(base, 'state');
  const store = new ImageStore({ root: dataRoot });
  const c = new Container({ id: uniqueId('commit-exact'), rootfs, dataRoot, stateRoot, cgroupParent });
  let expected: TreeManifest;
  try {
    const out = await c.spawn(['sh', '-c', CHANGES], { stdio: 'pipe' }).output();
    expect(out).toMatchObject({ exitCode: 0, stderr: '' });
    const upper = path.join(dataRoot, 'containers', c.id, 'upper');
    execFileSync('python3', ['-c', HOST_CHANGES, upper]);
    expect(fs.lstatSync(path.join(upper, 'sock')).isSocket()).toBe(true);
    // What the container sees, but the socket: no layer format holds one.
    expected = mergedView([upper, rootfs]);
    expected.entries = expected.entries.filter((e) => e.path !== 'sock');
    await c.commit('exact:1');
  } finally {
    await c.destroy();
  }
  // The changes are all there to compare (not lost on the way to the expected tree).
  const byPath = new Map(expected.entries.map((e) => [e.path, e]));
  expect(byPath.get('.')).toMatchObject({ mode: '0o750', uid: 5, gid: 6, mtime: '1600000004987654321', xattrs: { 'user.test.root': Buffer.from('root').toString('hex') } });
  expect(byPath.get('sym')).toMatchObject({ type: 'symlink', mtime: '1600000002500000000', xattrs: { 'trusted.test.on-symlink': Buffer.from('sym').toString('hex') } });
  expect(byPath.get('null-again')).toMatchObject({ type: 'char', rdev: '1:3', mtime: '1600000003000000001', xattrs: { 'trusted.test.on-device': Buffer.from('dev').toString('hex') } });
  expect(byPath.get('timed')?.mtime).toBe('1600000000123456789');
  expect(byPath.get('timed-dir')?.mtime).toBe('1600000001000000500');
  expect(byPath.get('before-1970')?.mtime).toBe('-1500000000');
  expect(byPath.has('bin/vi')).toBe(false);
  expect(expected.hardLinks).toContainEqual(['hl-a', 'hl-c', 'hl-dir/hl-b']);

  const unpacked = await umociTree(store, 'exact:1');
  expect(unpacked.entries).toEqual(expected.entries);
  expect(unpacked.hardLinks).toEqual(expected.hardLinks);

  // A container of the image stacks the store's layers: the same tree.
  const layers = await store.layerDirs('exact:1');
  const stacked = mergedView(layers);
  expect(stacked.entries).toEqual(expected.entries);
  expect(stacked.hardLinks).toEqual(expected.hardLinks);
  const d = new Container({ id: uniqueId('commit-exact-run'), image: 'exact:1', dataRoot, stateRoot, cgroupParent });
  try {
    const out = await d.spawn(['sh', '-c', 'stat -c "%a %u:%g" / && readlink /sym && stat -c %i /hl-a /hl-c /hl-dir/hl-b | uniq | wc -l && test ! -e /sock && stat -c %y /timed'], { stdio: 'pipe' }).output();
    expect(out).toMatchObject({ exitCode: 0, stderr: '' });
    expect(out.stdout.split('\n').slice(0, 4)).toEqual(['750 5:6', '../bin/busybox', '1', expect.stringMatching(/\.123456789/)]);
  } finally {
    await d.destroy();
  }
  roots = { dataRoot, stateRoot };
});

testIf('in a user namespace, the commit holds the container\'s ids, and / keeps the image\'s owner', async () => {
  expect(roots).toBeDefined();
  const { dataRoot, stateRoot } = roots!;
  const store = new ImageStore({ root: dataRoot });
  const c = new Container({ id: uniqueId('commit-exact-userns'), image: 'exact:1', dataRoot, stateRoot, userns: true, cgroupParent });
  try {
    const out = await c.spawn(['sh', '-c', 'stat -c "%a %u:%g" / /timed && echo u > /userns-made && chown 7:8 /userns-made && ln -s timed /userns-link'], { stdio: 'pipe' }).output();
    expect(out).toMatchObject({ exitCode: 0, stdout: '750 5:6\n644 0:0\n', stderr: '' });
    await c.commit('exact:2');
  } finally {
    await c.destroy();
  }
  const unpacked = await umociTree(store, 'exact:2');
  const stacked = mergedView(await store.layerDirs('exact:2'));
  expect(unpacked.entries).toEqual(stacked.entries);
  const byPath = new Map(unpacked.entries.map((e) => [e.path, e]));
  expect(byPath.get('.')).toMatchObject({ mode: '0o750', uid: 5, gid: 6 });
  expect(byPath.get('userns-made')).toMatchObject({ uid: 7, gid: 8 });
  expect(byPath.get('userns-link')).toMatchObject({ uid: 0, gid: 0, link: 'timed' });
  expect(byPath.get('timed')).toMatchObject({ uid: 0, gid: 0, mtime: '1600000000123456789' });
});
