/**
 * Container.commit (issue 11): a container's writable layer becomes a new gzip layer on top of
 * what it was made from; the image reads back with other tools (skopeo, umoci) and a container
 * made from its tree sees every change: new, deleted (whiteout) and replaced (opaque) entries,
 * modes, owners, symlinks, hard links. Bad input is a TypeError that leaves nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container, ImageStore } from '../../lib';
import { native } from '../../lib/native/binding';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { skopeoCopy } from '../support/image-fixtures';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { runCgroupParent, uniqueId } from '../support/unique';
import { CLI_JS, NODE } from '../support/cli';

const busybox = ensureBusyboxRootfs();
let base: string;
let dataRoot: string;
let stateRoot: string;
let rootfs: string;
const cgroupParent = runCgroupParent('commit');

beforeAll(() => {
  base = tempDir('tsc-commit-');
  fs.chmodSync(base, 0o711);
  dataRoot = path.join(base, 'data');
  stateRoot = path.join(base, 'state');
  rootfs = path.join(base, 'rootfs');
  execFileSync('cp', ['-a', busybox, rootfs]);
  // What the container deletes and replaces.
  fs.mkdirSync(path.join(rootfs, 'old/keep'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'old/keep/a'), 'a');
  fs.writeFileSync(path.join(rootfs, 'gone'), 'gone');
});

afterAll(() => removeTempDirs());

const CHANGES = [
  'echo new > /new',
  'rm /gone',
  'rm -rf /old/keep && mkdir /old/keep && echo b > /old/keep/b',
  // chown first: a chown clears the setuid bit.
  'echo m > /moded && chown 12:34 /moded && chmod 4751 /moded',
  'ln -s /new /link',
  'echo h > /hard1 && ln /hard1 /hard2',
  'echo c > /capped',
].join(' && ');

/** Sets an extended attribute from the host (python3: the machine has no setfattr). */
function setXattr(file: string, name: string, value: string): void {
  execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)', file, name, value]);
}

function getXattr(file: string, name: string): string {
  return execFileSync('python3', ['-c', 'import os,sys; sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2]).decode())', file, name], { encoding: 'utf8' });
}

const upperOf = (id: string, root = dataRoot): string => path.join(root, 'containers', id, 'upper');

async function run(root: string, script: string): Promise<string> {
  await using c = new Container({ id: uniqueId('commit-run'), rootfs: root, dataRoot, stateRoot, cgroupParent });
  const p = c.spawn(['sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const status = await p.wait();
  expect(status.exitCode).toBe(0);
  return out;
}

/** The committed image's merged tree, as umoci unpacks an export of it. */
function unpackWithUmoci(store: ImageStore, reference: string, archive: string): Promise<string> {
  return (async () => {
    await store.export(reference, archive, { format: 'oci-archive' });
    const layout = path.join(base, `layout-${path.basename(archive)}`);
    skopeoCopy(`oci-archive:${archive}`, `oci:${layout}:img`);
    const bundle = path.join(base, `bundle-${path.basename(archive)}`);
    execFileSync('umoci', ['unpack', '--image', `${layout}:img`, bundle], { stdio: 'ignore' });
    return path.join(bundle, 'rootfs');
  })();
}

test('commit: the changes become a gzip layer; a container of the image sees them', async () => {
  const store = new ImageStore({ root: dataRoot });
  const c = new Container({ id: uniqueId('commit'), rootfs, dataRoot, stateRoot, cgroupParent });
  try {
    expect((await c.spawn(['sh', '-c', CHANGES]).wait()).exitCode).toBe(0);
    // Extended attributes travel with the layer: a user one, and a file capability.
    setXattr(path.join(upperOf(c.id), 'new'), 'user.note', 'kept');
    execFileSync('setcap', ['cap_net_raw+ep', path.join(upperOf(c.id), 'capped')]);
    const image = await c.commit('mytool:1', { message: 'my change', author: 'me', changes: { Cmd: ['sh', '-c', 'cat /new'], Env: ['A=1'] } });
    expect(image.references).toEqual(['localhost/mytool:1']);
    expect(image.config.Cmd).toEqual(['sh', '-c', 'cat /new']);
    expect(image.config.Env).toContain('A=1');
    // A directory rootfs is the first layer, the changes the second; both gzip.
    expect(image.layers).toHaveLength(2);
    for (const layer of image.layers) {
      expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
      expect(fs.readFileSync(store.content.path(layer.digest)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    }
    const config = JSON.parse(fs.readFileSync(store.content.path(image.id), 'utf8'));
    expect(config.history[config.history.length - 1]).toMatchObject({ comment: 'my change', author: 'me' });
    // The rootfs directory itself is untouched.
    expect(fs.existsSync(path.join(rootfs, 'gone'))).toBe(true);

    // The committed layer as unpacked in the store: overlay whiteouts and an opaque directory.
    const top = store.layers.dir(image.layers[1]!.chainId);
    const gone = fs.lstatSync(path.join(top, 'gone'));
    expect(gone.isCharacterDevice() && gone.rdev === 0).toBe(true);

    // Read back by other tools: skopeo copies the exported archive, umoci unpacks it.
    const tree = await unpackWithUmoci(store, 'mytool:1', path.join(base, 'mytool.tar'));
    const out = await run(tree, [
      'cat /new', 'test ! -e /gone && echo gone-deleted', 'ls /old/keep', 'stat -c "%a %u %g" /moded',
      'readlink /link', 'stat -c %i /hard1 /hard2 | uniq | wc -l',
    ].join(' && '));
    expect(out.split('\n')).toEqual(['new', 'gone-deleted', 'b', '4751 12 34', '/new', '1', '']);
    expect(getXattr(path.join(tree, 'new'), 'user.note')).toBe('kept');
    expect(execFileSync('getcap', [path.join(tree, 'capped')], { encoding: 'utf8' })).toMatch(/cap_net_raw[=+]ep/);
  } finally {
    await c.destroy();
  }
});

test('commit of a running container pauses it while reading, and it keeps running', async () => {
  const c = new Container({ id: uniqueId('commit-live'), rootfs, dataRoot, stateRoot, cgroupParent });
  try {
    const main = c.spawn(['sleep', '1000']);
    await main.started;
    expect((await c.exec(['sh', '-c', 'echo live > /live']).wait()).exitCode).toBe(0);
    // What the container's status is while each tree is read: the upper layer (last) frozen.
    const binding = native();
    const original = binding.layerDiff.bind(binding);
    const seen: string[] = [];
    const spy = jest.spyOn(binding, 'layerDiff').mockImplementation(async (...args) => {
      seen.push((await c.state()).status);
      return original(...args);
    });
    let image;
    try {
      image = await c.commit('live', { changes: { Cmd: ['cat', '/live'] } });
      expect(seen[seen.length - 1]).toBe('paused');
      seen.length = 0;
      await c.commit('live-unpaused', { pause: false });
      expect(seen[seen.length - 1]).toBe('running');
    } finally {
      spy.mockRestore();
    }
    expect(image.references).toEqual(['localhost/live:latest']);
    expect((await c.state()).status).toBe('running');
    expect((await c.exec(['true']).wait()).exitCode).toBe(0);
    const top = new ImageStore({ root: dataRoot }).layers.dir(image.layers[image.layers.length - 1]!.chainId);
    expect(fs.readFileSync(path.join(top, 'live'), 'utf8')).toBe('live\n');
  } finally {
    await c.destroy();
  }
});

test('commit with a bad reference or bad changes is a TypeError and stores nothing', async () => {
  const root = path.join(base, 'data-bad');
  const c = new Container({ id: uniqueId('commit-bad'), rootfs, dataRoot: root, stateRoot, cgroupParent });
  try {
    expect((await c.spawn(['sh', '-c', 'echo x > /x']).wait()).exitCode).toBe(0);
    await expect(c.commit('')).rejects.toThrow(TypeError);
    await expect(c.commit('Bad Name!')).rejects.toThrow(TypeError);
    await expect(c.commit('ok:1', { changes: { Cmd: 'sh' as unknown as string[] } })).rejects.toThrow(/changes\.Cmd/);
    await expect(c.commit('ok:1', { changes: { Nope: 1 } as never })).rejects.toThrow(TypeError);
    const store = new ImageStore({ root });
    expect(await store.list()).toEqual([]);
    expect(await store.content.list()).toEqual([]);
  } finally {
    await c.destroy();
  }
});

/** A container whose lower layers are an image's (as the `image` option sets them), writable, no user namespace. */
function fromLayers(layers: string[], id: string): Container {
  const c = new Container({ id, rootfs, dataRoot, stateRoot, cgroupParent });
  Object.assign(c.config, { imageLayers: layers, userns: null, readonly: false });
  return c;
}

test('a container of the committed image (its store layers) sees the changes; its own commit stacks on it', async () => {
  const store = new ImageStore({ root: dataRoot });
  const first = new Container({ id: uniqueId('commit-base'), rootfs, dataRoot, stateRoot, cgroupParent });
  try {
    expect((await first.spawn(['sh', '-c', 'echo one > /one && rm /gone && rm -rf /old/keep && mkdir /old/keep && echo k > /old/keep/k']).wait()).exitCode).toBe(0);
    await first.commit('stack:1', { message: 'first' });
  } finally {
    await first.destroy();
  }
  const second = fromLayers(await store.layerDirs('stack:1'), uniqueId('commit-second'));
  let image;
  try {
    const p = second.spawn(['sh', '-c', 'cat /one; test -e /gone || echo no-gone; ls /old/keep; echo two > /two'], { stdio: 'pipe' });
    expect((await p.output()).stdout).toBe('one\nno-gone\nk\n');
    image = await second.commit('stack:2', { message: 'second', changes: { Cmd: ['cat', '/two'] } });
  } finally {
    await second.destroy();
  }
  const base = await store.inspect('stack:1');
  expect(image.layers.slice(0, 2)).toEqual(base.layers);
  expect(image.layers).toHaveLength(3);
  const config = JSON.parse(fs.readFileSync(store.content.path(image.id), 'utf8'));
  expect(config.history.map((h: { comment?: string }) => h.comment).filter(Boolean)).toEqual(['first', 'second']);
  // The committed image runs as any image does: its Cmd, over its layers.
  const third = new Container({ id: uniqueId('commit-third'), image: 'stack:2', dataRoot, stateRoot, cgroupParent });
  try {
    const p = third.spawn(undefined, { stdio: 'pipe' });
    expect((await p.output()).stdout).toBe('two\n');
  } finally {
    await third.destroy();
  }
  const fourth = new Container({ id: uniqueId('commit-fourth'), image: 'stack:2', dataRoot, stateRoot, cgroupParent });
  try {
    const p = fourth.spawn(['sh', '-c', 'cat /one; test -e /gone || echo no-gone; ls /old/keep'], { stdio: 'pipe' });
    expect((await p.output()).stdout).toBe('one\nno-gone\nk\n');
  } finally {
    await fourth.destroy();
  }
});

test('in a user namespace, the layer records the container\'s owners, not the host\'s', async () => {
  const c = new Container({ id: uniqueId('commit-userns'), rootfs, dataRoot, stateRoot, userns: true, cgroupParent });
  try {
    expect((await c.spawn(['sh', '-c', 'echo u > /owned && chown 12:34 /owned && echo r > /rootfile']).wait()).exitCode).toBe(0);
    expect(fs.statSync(path.join(upperOf(c.id), 'rootfile')).uid).toBeGreaterThan(65535);
    const image = await c.commit('userns:1');
    const top = new ImageStore({ root: dataRoot }).layers.dir(image.layers[image.layers.length - 1]!.chainId);
    expect(fs.statSync(path.join(top, 'owned'))).toMatchObject({ uid: 12, gid: 34 });
    expect(fs.statSync(path.join(top, 'rootfile'))).toMatchObject({ uid: 0, gid: 0 });
  } finally {
    await c.destroy();
  }
});

test('a layer that overlay cannot give alone (a redirected directory) fails and stores nothing', async () => {
  const root = path.join(base, 'data-redirect');
  const c = new Container({ id: uniqueId('commit-redirect'), rootfs, dataRoot: root, stateRoot, cgroupParent });
  try {
    expect((await c.spawn(['sh', '-c', 'mkdir /moved && echo x > /moved/x']).wait()).exitCode).toBe(0);
    // What overlay writes when a lower directory is renamed (redirect_dir): the files stay below.
    setXattr(path.join(upperOf(c.id, root), 'moved'), 'trusted.overlay.redirect', '/old');
    await expect(c.commit('moved:1')).rejects.toMatchObject({ code: 'ENOTSUP', entry: 'moved' });
    const store = new ImageStore({ root });
    expect(await store.list()).toEqual([]);
    expect(await store.content.list()).toEqual([]);
    expect(await store.layers.list()).toEqual([]);
  } finally {
    await c.destroy();
  }
});

test('ts-container commit CONTAINER REFERENCE prints the new image id', async () => {
  const c = new Container({ id: uniqueId('commit-cli'), rootfs, dataRoot, stateRoot, detach: true, cgroupParent });
  try {
    const main = c.spawn(['sh', '-c', 'echo cli > /cli && exec sleep 1000']);
    await main.started;
    expect((await c.exec(['sh', '-c', 'while ! test -e /cli; do sleep 0.05; done']).wait()).exitCode).toBe(0);
    const r = spawnSync(NODE, [CLI_JS, '--root', stateRoot, 'commit', '-m', 'from cli', '-c', 'CMD ["cat", "/cli"]', '-c', 'ENV B=2', c.id, 'clitool:2'], {
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const image = await new ImageStore({ root: dataRoot }).inspect('clitool:2');
    expect(r.stdout).toBe(`${image.id}\n`);
    expect(image.config.Cmd).toEqual(['cat', '/cli']);
    expect(image.config.Env).toContain('B=2');
    const top = new ImageStore({ root: dataRoot }).layers.dir(image.layers[image.layers.length - 1]!.chainId);
    expect(fs.readFileSync(path.join(top, 'cli'), 'utf8')).toBe('cli\n');
    expect((await c.state()).status).toBe('running');
  } finally {
    await c.destroy();
  }
});
