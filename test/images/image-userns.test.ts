/**
 * Image layers in a user namespace (issue 11): the helper mounts the rootfs overlay over
 * idmapped layers (native/helper/idmapped_rootfs.h), so that a file the image stores as owned
 * by 0 is owned by container root inside, not by nobody; what the container writes lands in
 * its upper layer owned by the host ids its user namespace maps to; setuid bits, whiteouts and
 * opaque directories of the layers hold; and a non-root image user reaches its own files.
 * A read-only rootfs directory is idmapped too, a writable one (rootfsOverlay: false) never.
 * A layer on a filesystem that cannot be idmapped is a ContainerSetupError naming it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerSetupError, ImageStore } from '../../lib';
import { useContainers } from '../support/containers';
import { buildTestImage } from '../support/test-images';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';

jest.setTimeout(120_000);

const h = useContainers();
let work: string;
let dataRoot: string;
let images: ImageStore;
const REF = 'localhost/userns/busybox:1';
const USER_REF = 'localhost/userns/busybox-user:1';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-image-userns-'));
  fs.chmodSync(work, 0o711);
  h.tempDirs.push(work);
  const base = buildTestImage('busybox', path.join(os.tmpdir(), 'tsc-test-images', 'busybox'));
  dataRoot = path.join(work, 'data');
  images = new ImageStore({ root: dataRoot });
  const [imported] = await images.import(base.layout);
  await images.tag(imported!.id, REF);
  // The same layers, with a non-root User (the owner of /home/user, 0700, in the first layer).
  const layout = path.join(work, 'user-layout');
  run('cp', ['-a', base.layout, layout]);
  run('umoci', ['config', '--image', `${layout}:${base.tag}`, '--config.user', '1000:1000']);
  const [withUser] = await images.import(layout);
  await images.tag(withUser!.id, USER_REF);
});

/** The host uid and gid that container root maps to: the owner of the container's upper layer. */
function upperOf(id: string): string {
  return path.join(dataRoot, 'containers', id, 'upper');
}

test('the layers keep their owners inside; root writes / and its file lands in the upper layer as its host id', async () => {
  const c = h.make({ image: REF, imageStore: images, userns: true });
  const out = await c.spawn(['sh', '-c', [
    'ls -ln /bin/busybox | awk \'{print $3":"$4}\'',
    'stat -c "%u:%g %a" /usr/bin/suid-tool /usr/bin/sgid-tool /home/user',
    'echo made > /new-in-root && stat -c "%u:%g" /new-in-root',
    'echo more >> /etc/labelled && stat -c "%u:%g" /etc/labelled',
    'id -u',
    // Copied up into the upper layer (a new mtime), a setuid file keeps its bit and owner. (A
    // write would clear the bit: only CAP_FSETID in the initial user namespace keeps it.)
    'touch /usr/bin/suid-tool && stat -c "%u:%g %a" /usr/bin/suid-tool',
  ].join(' && ')], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stderr: '' });
  expect(out.stdout.split('\n')).toEqual(['0:0', '0:0 4755', '0:1000 2755', '1000:1000 700', '0:0', '0:0', '0', '0:0 4755', '']);
  const root = fs.statSync(upperOf(c.id));
  // Container root is not host root: a block of ts-container's subordinate ids.
  expect(root.uid).toBeGreaterThan(65535);
  expect(fs.statSync(path.join(upperOf(c.id), 'new-in-root'))).toMatchObject({ uid: root.uid, gid: root.gid });
  // A file of the layers copied up on write: owned by container root's host id, not host root.
  expect(fs.statSync(path.join(upperOf(c.id), 'etc/labelled'))).toMatchObject({ uid: root.uid, gid: root.gid });
  expect(fs.statSync(path.join(upperOf(c.id), 'usr/bin/suid-tool'))).toMatchObject({ uid: root.uid, mode: 0o104755 });
  // The layer itself is unchanged (owned by 0, as the image says).
  const layers = await images.layerDirs(REF);
  const busybox = layers.map((dir) => path.join(dir, 'bin/busybox')).find((file) => fs.existsSync(file));
  expect(fs.statSync(busybox!).uid).toBe(0);
});

test('whiteouts and opaque directories of the layers hold in a user namespace', async () => {
  const out = await h.sh({ image: REF, imageStore: images, userns: true }, 'test ! -e /bin/ls && test ! -e /etc/remove-me && ls /etc/opq');
  expect(out).toMatchObject({ exitCode: 0, stdout: 'fresh\n', stderr: '' });
});

test('a non-root image user owns its files from the layers and writes where they let it', async () => {
  const c = h.make({ image: USER_REF, imageStore: images, userns: true });
  const out = await c.spawn(['sh', '-c', 'id -u && cat /home/user/secret && echo x > /home/user/made && stat -c "%u:%g" /home/user/made'], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: '1000\nmine\n1000:1000\n', stderr: '' });
  const root = fs.statSync(upperOf(c.id));
  expect(fs.statSync(path.join(upperOf(c.id), 'home/user/made'))).toMatchObject({ uid: root.uid + 1000, gid: root.gid + 1000 });
  // And where the layers do not let it, it cannot write.
  const denied = await h.sh({ image: USER_REF, imageStore: images, userns: true }, 'echo x > /etc/passwd');
  expect(denied.exitCode).not.toBe(0);
});

test('read-only (no writable layer): the idmapped layers alone', async () => {
  const out = await h.sh({ image: REF, imageStore: images, userns: true, readonly: true }, 'stat -c "%u:%g %a" /usr/bin/suid-tool; touch /bin/new 2>&1');
  expect(out).toMatchObject({ exitCode: 1, stdout: '0:0 4755\ntouch: /bin/new: Read-only file system\n' });
});

test('a read-only rootfs directory is idmapped too; a writable one (rootfsOverlay: false) is not', async () => {
  const rootfs = path.join(work, 'plain-rootfs');
  run('cp', ['-a', ensureBusyboxRootfs(), rootfs]);
  const ro = await h.sh({ rootfs, dataRoot, readonly: true, userns: true }, 'stat -c "%u:%g" /bin/busybox; touch /bin/new 2>&1');
  expect(ro).toMatchObject({ exitCode: 1, stdout: '0:0\ntouch: /bin/new: Read-only file system\n' });
  // Written straight into the directory, container root stays its own host id: the files of
  // host root are nobody's to it, and what it makes there is not host root's.
  fs.chmodSync(rootfs, 0o777);
  const rw = h.make({ rootfs, dataRoot, readonly: false, rootfsOverlay: false, userns: true });
  const out = await rw.spawn(['sh', '-c', 'stat -c "%u" /bin/busybox && echo x > /made-by-root'], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: '65534\n' });
  expect(fs.statSync(path.join(rootfs, 'made-by-root')).uid).toBeGreaterThan(65535);
});

test('a data root that others cannot search serves a user namespace: the helper, not container root, mounts the layers', async () => {
  const closed = path.join(work, 'closed');
  fs.mkdirSync(closed, { mode: 0o700 });
  const rootfs = path.join(work, 'closed-rootfs');
  run('cp', ['-a', ensureBusyboxRootfs(), rootfs]);
  const c = h.make({ rootfs, dataRoot: path.join(closed, 'data'), userns: true });
  const out = await c.spawn(['sh', '-c', 'echo x > /made && stat -c "%u:%g" /made /bin/busybox'], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: '0:0\n0:0\n', stderr: '' });
  const upper = path.join(closed, 'data', 'containers', c.id, 'upper');
  expect(fs.statSync(path.join(upper, 'made')).uid).toBe(fs.statSync(upper).uid);
});

test('before Linux 6.8 (one lowerdir string) and before 6.13 (no layer fds), the idmapped layers mount the same way', async () => {
  process.env.TS_CONTAINER_TEST_OVERLAY_SINGLE_STRING = '1';
  try {
    const out = await h.sh({ image: REF, imageStore: images, userns: true }, 'stat -c "%u:%g" /bin/busybox /home/user && grep -o "lowerdir=[^,]*" /proc/self/mountinfo | head -n 1');
    expect(out).toMatchObject({ exitCode: 0, stderr: '' });
    expect(out.stdout).toMatch(/^0:0\n1000:1000\nlowerdir=\/proc\/self\/fd\/\d+(:\/proc\/self\/fd\/\d+)+\n$/);
  } finally {
    delete process.env.TS_CONTAINER_TEST_OVERLAY_SINGLE_STRING;
  }
});

test('a detached container (made by its monitor) gets the idmapped layers too', async () => {
  const c = h.make({ image: REF, imageStore: images, userns: true, detach: true });
  const main = c.spawn(['sleep', '1000']);
  await main.started;
  const out = await c.exec(['sh', '-c', 'stat -c "%u:%g" /bin/busybox && echo x > /made && stat -c "%u:%g" /made'], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: '0:0\n0:0\n', stderr: '' });
});

test('a layer on a filesystem that cannot be idmapped: a ContainerSetupError naming it, nothing left', async () => {
  // overlayfs cannot be idmapped: a rootfs directory (the overlay's lower layer) inside an overlay mount.
  const below = path.join(work, 'ovl');
  for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(below, d), { recursive: true });
  run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${below}/lower,upperdir=${below}/upper,workdir=${below}/work`, `${below}/merged`]);
  try {
    const rootfs = path.join(below, 'merged', 'rootfs');
    run('cp', ['-a', ensureBusyboxRootfs(), rootfs]);
    const layerRoot = path.join(work, 'data-ovl');
    const c = h.make({ rootfs, dataRoot: layerRoot, userns: true });
    const error = await c.spawn(['true']).wait().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerSetupError);
    expect(error).toMatchObject({ code: 'EINVAL', step: `idmap the rootfs layer ${rootfs} for the user namespace (its filesystem does not support idmapped mounts)` });
    expect((error as Error).message).toMatch(/data root on ext4/);
    await c.destroy();
    expect(fs.readdirSync(path.join(layerRoot, 'containers')).filter((n) => !n.startsWith('.'))).toEqual([]);
    // Without a user namespace nothing is idmapped: the same rootfs runs.
    expect(await h.sh({ rootfs, dataRoot: layerRoot }, 'echo ran')).toMatchObject({ exitCode: 0, stdout: 'ran\n' });
  } finally {
    run('umount', [`${below}/merged`]);
  }
});
