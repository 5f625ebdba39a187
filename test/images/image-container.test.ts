/**
 * Containers of an image: an image imported into a store (a busybox image umoci built, with a
 * top layer of its own /etc/passwd and a config naming Cmd, Env, WorkingDir and User) runs
 * its Cmd with those defaults, options override them, containers share the layers, and the
 * store refuses to remove an image while a container uses it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ImageStore, ImageNotFoundError, ImageInUseError } from '../../lib';
import { settleWritableLayerRemovals } from '../../lib/container/writable-layer';
import { useContainers } from '../support/containers';
import { buildTestImage } from '../support/test-images';

jest.setTimeout(120_000);

const h = useContainers();
let dataRoot: string;
let images: ImageStore;
const REF = 'localhost/wire/app:1';

function run(cmd: string, args: string[], cwd?: string): void {
  execFileSync(cmd, args, { stdio: 'pipe', ...(cwd ? { cwd } : {}) });
}

beforeAll(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-image-container-'));
  h.tempDirs.push(work);
  const base = buildTestImage('busybox', path.join(os.tmpdir(), 'tsc-test-images', 'busybox'));
  const layout = path.join(work, 'layout');
  run('cp', ['-a', base.layout, layout]);
  // A layer with the image's users, and a config whose defaults the container must take.
  const files = path.join(work, 'files');
  fs.mkdirSync(path.join(files, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(files, 'srv', 'app'), { recursive: true });
  fs.writeFileSync(path.join(files, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:4242:4343:app:/srv/app:/bin/sh\n');
  fs.writeFileSync(path.join(files, 'etc', 'group'), 'root:x:0:\napp:x:4343:\nextra:x:5151:app\n');
  run('tar', ['-C', files, '--owner=0', '--group=0', '-cf', path.join(work, 'users.tar'), 'etc/passwd', 'etc/group', 'srv/app']);
  const image = `${layout}:${base.tag}`;
  run('umoci', ['raw', 'add-layer', '--image', image, path.join(work, 'users.tar')]);
  run('umoci', ['config', '--image', image, '--config.user', 'app', '--config.workingdir', '/srv/app', '--config.env', 'GREETING=from-image', '--config.env', 'KEEP=image',
    '--config.entrypoint', '/bin/sh', '--config.entrypoint', '-c', '--config.cmd', 'echo "$GREETING $KEEP $(id -u):$(id -g):$(id -G) $(pwd) $HOME"']);
  dataRoot = path.join(work, 'data');
  images = new ImageStore({ root: dataRoot });
  const [imported] = await images.import(layout);
  await images.tag(imported!.id, REF);
});

test('no argv: the image runs its Entrypoint + Cmd with its Env, WorkingDir and User', async () => {
  const c = h.make({ image: REF, imageStore: images });
  expect(c.config.image).toMatchObject({ reference: REF, id: expect.stringMatching(/^sha256:/), digest: expect.stringMatching(/^sha256:/) });
  expect(c.config.readonly).toBe(false);
  const out = await c.spawn(undefined, { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: 'from-image image 4242:4343:4343 5151 /srv/app /srv/app\n' });
});

test('argv overrides Cmd; env, cwd and user options override the image', async () => {
  const c = h.make({ image: REF, imageStore: dataRoot, env: { KEEP: 'option' }, cwd: '/tmp', user: { uid: 7, gid: 8 } });
  const out = await c.spawn(['sh', '-c', 'echo "$GREETING $KEEP $(id -u):$(id -g) $(pwd)"'], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: 'from-image option 7:8 /tmp\n' });
});

test('the container writes into its own layer: the image and other containers do not see it', async () => {
  const a = h.make({ image: REF, imageStore: images, user: { uid: 0 } });
  expect(await a.spawn(['sh', '-c', 'rm /bin/true && echo mine > /etc/wire-file && cat /etc/wire-file'], { stdio: 'pipe' }).output()).toMatchObject({ exitCode: 0, stdout: 'mine\n' });
  const b = h.make({ image: REF, imageStore: images });
  expect(await b.spawn(['sh', '-c', 'test -e /bin/true && test ! -e /etc/wire-file && echo clean'], { stdio: 'pipe' }).output()).toMatchObject({ exitCode: 0, stdout: 'clean\n' });
  for (const dir of await images.layerDirs(REF)) expect(fs.existsSync(path.join(dir, 'etc', 'wire-file'))).toBe(false);
});

/**
 * Bytes under the data root. The writable layers of the tests before are removed in the
 * background: a file du finds and then cannot stat makes it fail, so those removals end first.
 */
async function dataRootBytes(): Promise<number> {
  await settleWritableLayerRemovals();
  return Number(execFileSync('du', ['-sb', dataRoot], { encoding: 'utf8' }).split('\t')[0]);
}

test('ten containers of one image at once share the same layer directories, each with its own upper layer only', async () => {
  const layerDirs = await images.layerDirs(REF);
  const before = await dataRootBytes();
  const cs = Array.from({ length: 10 }, () => h.make({ image: REF, imageStore: images }));
  for (const c of cs) expect(c.config.imageLayers).toEqual(layerDirs);
  const running = cs.map((c) => c.spawn(['sh', '-c', 'read x'], { stdio: 'pipe' }));
  await Promise.all(running.map((p) => new Promise<void>((resolve) => p.once('spawn', resolve))));
  const mounts = await Promise.all(cs.map((c) => c.exec(['cat', '/proc/self/mountinfo'], { stdio: 'pipe' }).output()));
  for (const m of mounts) expect(m.stdout).toMatch(/ \/ \S+ .* - overlay /);
  const after = await dataRootBytes();
  // Ten copies of the image would add megabytes; ten upper layers and records add a few KiB each.
  expect(after - before).toBeLessThan(10 * 64 * 1024);
  for (const p of running) p.stdin!.end('\n');
  await Promise.all(running.map((p) => p.wait()));
});

test('remove is refused while a container uses the image, and allowed after it is destroyed', async () => {
  await images.tag(REF, 'localhost/wire/inuse:1');
  await images.remove('localhost/wire/inuse:1'); // another reference stays: an untag only
  const c = new Container({ image: REF, imageStore: images });
  await c.create(['true']);
  const copy = await images.tag(REF, 'localhost/wire/only:1');
  await expect(images.remove(copy.id)).rejects.toBeInstanceOf(ImageInUseError);
  await c.destroy();
  const removed = await images.remove(copy.id);
  expect(removed.deleted).toEqual([copy.id]);
  await expect(images.inspect(REF)).rejects.toBeInstanceOf(ImageNotFoundError);
  // Put back for the tests after this one.
  await images.import(path.join(path.dirname(dataRoot), 'layout')).then(([i]) => images.tag(i!.id, REF));
});

test('image together with rootfs is a TypeError; a missing image is ENOIMAGE and leaves nothing behind', () => {
  expect(() => new Container({ image: REF, rootfs: '/tmp' })).toThrow(TypeError);
  const containers = path.join(dataRoot, 'containers');
  const before = fs.existsSync(containers) ? fs.readdirSync(containers) : [];
  let error: unknown;
  try {
    new Container({ image: 'localhost/wire/missing:1', imageStore: images });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ImageNotFoundError);
  expect((error as ImageNotFoundError).code).toBe('ENOIMAGE');
  expect(fs.existsSync(containers) ? fs.readdirSync(containers) : []).toEqual(before);
});
