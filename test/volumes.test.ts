/**
 * Named volumes (issue 13): `mounts: [{ type: 'volume', source, target }]` makes
 * <dataRoot>/volumes/NAME on first use; its data outlives the container; Volume.remove()
 * refuses while a container (running or stopped, not yet deleted) mounts it; bad input
 * leaves no volume, record or container.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container, Volume, VolumeInUseError, VolumeNotFoundError } from '../lib';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers, ok } from './support/containers';
import { removeTempDirs, tempDir } from './support/temp-dirs';

let dataRoot: string;
let stateRoot: string;
const h = useContainers(() => ({ rootfs: ensureBusyboxRootfs(), dataRoot, stateRoot }));

beforeEach(() => {
  const dir = tempDir('tsc-volumes-');
  dataRoot = path.join(dir, 'data');
  stateRoot = path.join(dir, 'state');
});
afterAll(removeTempDirs);

/** Everything a volume leaves in the data root: its directory and its use records. */
function volumeFiles(): string[] {
  const list = (dir: string): string[] => (fs.existsSync(path.join(dataRoot, dir)) ? fs.readdirSync(path.join(dataRoot, dir)).filter((f) => f !== '.lock').map((f) => `${dir}/${f}`) : []);
  return [...list('volumes'), ...list('volume-uses')];
}

test('a volume is made on first use, and its data is there for the next container', async () => {
  const first = await h.sh({ mounts: [{ type: 'volume', source: 'cache', target: '/cache' }] }, 'echo kept > /cache/file; ls -ld /cache | cut -c1-10');
  expect(first).toMatchObject(ok('drwxr-xr-x\n'));
  // `destination`, as docker's --mount names it, is the same as `target`.
  const second = await h.sh({ mounts: [{ type: 'volume', source: 'cache', destination: '/other' }] }, 'cat /other/file');
  expect(second).toMatchObject(ok('kept\n'));
  expect(fs.readFileSync(path.join(dataRoot, 'volumes', 'cache', 'file'), 'utf8')).toBe('kept\n');
  const [volume] = await Volume.list({ dataRoot });
  expect(volume.toJSON()).toMatchObject({ name: 'cache', mountpoint: path.join(dataRoot, 'volumes', 'cache') });
});

test("a volume is its container's root's to write in a user namespace too: the host's /, or userns: true", async () => {
  for (const options of [{ rootfs: '/' }, { userns: true }] as const) {
    const out = await h.sh({ ...options, mounts: [{ type: 'volume', source: 'shared', target: '/data' }] }, 'echo mine > /data/file && stat -c "%u:%g" /data /data/file && rm /data/file');
    expect(out).toMatchObject(ok('0:0\n0:0\n'));
  }
});

test('readonly: the container cannot write to the volume', async () => {
  await Volume.create('ro', { dataRoot });
  const out = await h.sh({ mounts: [{ type: 'volume', source: 'ro', target: '/ro', readonly: true }] }, 'touch /ro/x');
  expect(out.exitCode).not.toBe(0);
  expect(out.stderr).toContain('Read-only file system');
  expect(fs.readdirSync(path.join(dataRoot, 'volumes', 'ro'))).toEqual([]);
});

test('remove() is refused while a container mounts it, running or stopped, and works once it is deleted', async () => {
  const c = h.make({ mounts: [{ type: 'volume', source: 'busy', target: '/busy' }], detach: true });
  await c.spawn(['sleep', '30']).started;
  expect((await Volume.get('busy', { dataRoot })).containers).toEqual([c.id]);
  const running = await Volume.remove('busy', { dataRoot }).catch((e: unknown) => e);
  expect(running).toBeInstanceOf(VolumeInUseError);
  expect(running).toMatchObject({ code: 'EVOLUMEINUSE', volume: 'busy', containers: [c.id] });
  expect((running as Error).message).toBe(`volume busy is used by container ${c.id}; delete it first`);
  c.kill();
  await c.wait();
  expect((await c.state()).status).toBe('stopped');
  await expect(Volume.remove('busy', { dataRoot })).rejects.toMatchObject({ code: 'EVOLUMEINUSE' });
  await c.destroy();
  await Volume.remove('busy', { dataRoot });
  expect(volumeFiles()).toEqual([]);
  await expect(Volume.get('busy', { dataRoot })).rejects.toBeInstanceOf(VolumeNotFoundError);
});

test('Volume.create is idempotent; get/remove of a missing volume is VolumeNotFoundError', async () => {
  const made = await Volume.create('twice', { dataRoot });
  fs.writeFileSync(path.join(made.mountpoint, 'f'), 'x');
  const again = await Volume.create('twice', { dataRoot });
  expect(fs.readdirSync(again.mountpoint)).toEqual(['f']);
  await expect(Volume.get('nope', { dataRoot })).rejects.toMatchObject({ name: 'VolumeNotFoundError', code: 'ENOVOLUME', volume: 'nope' });
  await expect(Volume.remove('nope', { dataRoot })).rejects.toBeInstanceOf(VolumeNotFoundError);
  await expect(Volume.create('../escape', { dataRoot })).rejects.toThrow(/^name: expected a volume name/);
});

test('bad volume mounts are typed option errors, and leave nothing', async () => {
  const bad = (mount: unknown) => () => new Container({ rootfs: ensureBusyboxRootfs(), dataRoot, stateRoot, mounts: [mount as never] });
  expect(bad({ type: 'volume', source: '../etc', target: '/x' })).toThrow(/^mounts\[0\]\.source: expected a volume name/);
  expect(bad({ type: 'volume', source: 'v', target: '/x', destination: '/y' })).toThrow(/^mounts\[0\]\.destination: give target or destination, not both/);
  expect(bad({ type: 'volume', source: 'v' })).toThrow(/^mounts\[0\]\.target: /);
  expect(bad({ type: 'volume', source: '', target: '/x' })).toThrow(/^mounts\[0\]\.source: expected a volume name/);
  expect(bad({ type: 'volume', source: 'v', target: '/x', recursive: true })).toThrow(/^mounts\[0\]\.recursive: unknown option/);
  expect(bad({ type: 'nfs', target: '/x' })).toThrow(/^mounts\[0\]\.type: expected "bind", "tmpfs" or "volume"/);
  expect(volumeFiles()).toEqual([]);
});

test('a container that fails to start removes the volume it made, and its record', async () => {
  const failed = await h.run({ mounts: [{ type: 'volume', source: 'fresh', target: '/fresh' }] }, ['/no/such/program']).catch((e: NodeJS.ErrnoException) => e);
  expect(failed).toMatchObject({ code: 'ENOENT' });
  expect(volumeFiles()).toEqual([]);
  // A volume that existed before stays, with its data.
  const kept = await Volume.create('kept', { dataRoot });
  fs.writeFileSync(path.join(kept.mountpoint, 'data'), 'x');
  await h.run({ mounts: [{ type: 'volume', source: 'kept', target: '/kept' }] }, ['/no/such/program']).catch(() => undefined);
  expect(volumeFiles()).toEqual(['volumes/kept']);
  expect(fs.readdirSync(kept.mountpoint)).toEqual(['data']);
});

test('a volume without a source is anonymous, as docker\'s: a random name, gone once its container is deleted', async () => {
  const c = h.make({ mounts: [{ type: 'volume', destination: '/anon' }], detach: true });
  await c.spawn(['sh', '-c', 'echo x > /anon/f; exec sleep 30']).started;
  const [volume] = await Volume.list({ dataRoot });
  expect(volume.name).toMatch(/^[0-9a-f]{64}$/);
  expect(volume.containers).toEqual([c.id]);
  await expect(Volume.remove(volume.name, { dataRoot })).rejects.toBeInstanceOf(VolumeInUseError);
  await c.destroy();
  // Swept by the next volume operation.
  expect(await Volume.list({ dataRoot })).toEqual([]);
  expect(volumeFiles()).toEqual([]);
});
