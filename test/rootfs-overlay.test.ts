/**
 * The rootfs as an overlay (issue 11): a rootfs directory stays as it is, and each container
 * writes into a private layer under the data root that goes away with it; lower layers stack
 * in order, whiteouts hide what is below them; the layer is removed after destroy, after a
 * kill -9 of its maker (by the sweep), and after a failed create.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ContainerSetupError } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { resetSweepsForTest, sweepStateRoot } from '../lib/state/sweep';
import { resetDataRootSweepsForTest, settleWritableLayerRemovals, sweepDataRoot } from '../lib/container/writable-layer';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { ok, useContainers } from './support/containers';
import { collect, removeScripts, runScript, startScript } from './support/node-script';
import { runCgroupParent, uniqueId } from './support/unique';
import { assertNothingLeft, snapshot } from './support/leftovers';
import { cgroupsBelow, emptyListing } from './cgroups/support';

const rootfs = ensureBusyboxRootfs();
let base: string;
let dataRoot: string;
let stateRoot: string;
const { make, sh } = useContainers(() => ({ dataRoot, stateRoot }));

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-overlay-'));
  // Searchable by others: a user-namespace container's root reaches its layer through it.
  fs.chmodSync(base, 0o711);
  dataRoot = path.join(base, 'data');
  stateRoot = path.join(base, 'state');
});

afterAll(() => {
  removeScripts();
  fs.rmSync(base, { recursive: true, force: true });
});

const readdirOrNone = (dir: string): string[] => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
};

/**
 * What the data root holds for containers under their names: nothing once they are all gone.
 * Removed layers wait in containers/.removing/ for their files to go (removalsLeft).
 */
const layersLeft = (root = dataRoot): string[] => readdirOrNone(path.join(root, 'containers')).filter((name) => name !== '.removing');

/** What is still being removed, once this process's background removals have finished. */
async function removalsLeft(root = dataRoot): Promise<string[]> {
  await settleWritableLayerRemovals();
  return readdirOrNone(path.join(root, 'containers', '.removing'));
}

/** A private, writable copy of the busybox rootfs. */
function rootfsCopy(): string {
  const dir = path.join(fs.mkdtempSync(path.join(base, 'rootfs-')), 'root');
  execFileSync('cp', ['-a', rootfs, dir]);
  return dir;
}

/** A layer directory with these files (name -> content; null: a whiteout, as overlayfs spells it). */
function layer(files: Record<string, string | null>): string {
  const dir = fs.mkdtempSync(path.join(base, 'layer-'));
  fs.chmodSync(dir, 0o755);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (content === null) execFileSync('mknod', [file, 'c', '0', '0']);
    else fs.writeFileSync(file, content);
  }
  return dir;
}

/**
 * A container whose lower layers are `layers` (top first), set as the image option will set
 * them: its rootfs is then not the host's / (no forced id block) and is writable unless asked.
 */
function withLayers(layers: string[], options: ContainerOptions = {}): Container {
  const c = make(options);
  Object.assign(c.config, { imageLayers: layers, userns: null, readonly: options.readonly ?? false });
  return c;
}

test('writes land in the private layer: rm /bin/true inside leaves the host directory intact', async () => {
  const c = make({ rootfs });
  const r = await c.spawn(['sh', '-c', 'rm /bin/true && echo new > /etc/added && ls /bin/true; cat /etc/added'], { stdio: 'pipe' }).output();
  expect(r).toMatchObject({ exitCode: 0, stdout: 'new\n', stderr: 'ls: /bin/true: No such file or directory\n' });
  expect(fs.lstatSync(path.join(rootfs, 'bin', 'true')).isSymbolicLink()).toBe(true);
  expect(fs.existsSync(path.join(rootfs, 'etc', 'added'))).toBe(false);
  // In the container's upper layer: the new file, and a whiteout (a 0:0 device) for the removed one.
  const upper = path.join(dataRoot, 'containers', c.id, 'upper');
  expect(fs.readFileSync(path.join(upper, 'etc', 'added'), 'utf8')).toBe('new\n');
  const whiteout = fs.lstatSync(path.join(upper, 'bin', 'true'));
  expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);
  await c.destroy();
  expect(layersLeft()).toEqual([]);
});

test('two containers on one rootfs directory do not see each other\'s writes', async () => {
  const a = make({ rootfs });
  const b = make({ rootfs });
  expect(await a.spawn(['sh', '-c', 'echo a > /root/mine'], { stdio: 'pipe' }).output()).toMatchObject(ok(''));
  expect(await b.spawn(['sh', '-c', 'echo b > /root/mine'], { stdio: 'pipe' }).output()).toMatchObject(ok(''));
  // Stopped, each still keeps its own layer until destroyed.
  expect(fs.readFileSync(path.join(dataRoot, 'containers', a.id, 'upper', 'root', 'mine'), 'utf8')).toBe('a\n');
  expect(fs.readFileSync(path.join(dataRoot, 'containers', b.id, 'upper', 'root', 'mine'), 'utf8')).toBe('b\n');
  expect(fs.existsSync(path.join(rootfs, 'root', 'mine'))).toBe(false);
  await Promise.all([a.destroy(), b.destroy()]);
  expect(layersLeft()).toEqual([]);
});

test('a running container sees only its own writes while another writes the same path', async () => {
  const a = make({ rootfs });
  const p = a.spawn(['sh', '-c', 'echo a > /root/seen && exec sleep 1000'], { stdio: 'ignore' });
  await new Promise<void>((resolve) => {
    const poll = () => (fs.existsSync(path.join(dataRoot, 'containers', a.id, 'upper', 'root', 'seen')) ? resolve() : setTimeout(poll, 10));
    poll();
  });
  expect(await sh({ rootfs }, 'cat /root/seen 2>&1; echo b > /root/seen; cat /root/seen')).toMatchObject(
    ok('cat: can\'t open \'/root/seen\': No such file or directory\nb\n'),
  );
  expect(await a.exec(['cat', '/root/seen'], { stdio: 'pipe' }).output()).toMatchObject(ok('a\n'));
  p.kill('SIGKILL');
  await p.wait().catch(() => undefined);
});

test('a detached container restarted by its monitor keeps its writable layer until deleted', async () => {
  const c = make({ rootfs, detach: true, restart: 'on-failure:2' });
  c.spawn(['sh', '-c', 'echo run >> /root/runs; wc -l < /root/runs; exit 1']);
  let stdout = '';
  for await (const record of c.logs({ follow: true })) if (record.stream === 'stdout') stdout += record.data.toString();
  expect(stdout.split('\n').map((l) => l.trim())).toEqual(['1', '2', '3', '']);
  expect(fs.existsSync(path.join(rootfs, 'root', 'runs'))).toBe(false);
  await Container.remove(c.id, { stateRoot });
  expect(layersLeft()).toEqual([]);
});

test('restore() makes the container again with a fresh writable layer, and the old one is gone', async () => {
  const c = make({ rootfs, detach: true, command: ['sh', '-c', 'ls /root/mark 2>/dev/null; touch /root/mark'] });
  await c.spawn().wait();
  expect(fs.existsSync(path.join(dataRoot, 'containers', c.id, 'upper', 'root', 'mark'))).toBe(true);
  const again = await Container.restore(c.id, { stateRoot });
  expect(await again.wait()).toMatchObject({ exitCode: 0 });
  let stdout = '';
  for await (const record of again.logs()) if (record.stream === 'stdout') stdout += record.data.toString();
  expect(stdout).toBe('');
  expect(layersLeft().sort()).toEqual([c.id, `${c.id}.json`].sort());
  await again.destroy();
  expect(layersLeft()).toEqual([]);
});

test('readonly: true has no writable layer', async () => {
  const c = make({ rootfs, readonly: true });
  const r = await c.spawn(['sh', '-c', 'touch /ts-test'], { stdio: 'pipe' }).output();
  expect(r).toMatchObject({ exitCode: 1, stderr: 'touch: /ts-test: Read-only file system\n' });
  expect(layersLeft()).toEqual([]);
  expect(fs.readFileSync(path.join(stateRoot, c.id, 'state.json'), 'utf8')).not.toMatch(/dataRoot/);
});

test('rootfsOverlay: false writes into the directory and makes nothing under the data root', async () => {
  const root = rootfsCopy();
  expect(await sh({ rootfs: root, rootfsOverlay: false }, 'rm /bin/true && echo x > /root/out')).toMatchObject(ok(''));
  expect(fs.existsSync(path.join(root, 'bin', 'true'))).toBe(false);
  expect(fs.readFileSync(path.join(root, 'root', 'out'), 'utf8')).toBe('x\n');
  expect(layersLeft()).toEqual([]);
});

describe('lower layers (as an image fills them in)', () => {
  test('stack top first: an upper layer\'s file wins, and its whiteout hides a file below', async () => {
    const bottom = layer({ 'etc/motd': 'bottom\n', 'etc/only-bottom': 'b\n', 'etc/hidden': 'you should not see me\n' });
    const top = layer({ 'etc/motd': 'top\n', 'etc/hidden': null });
    const c = withLayers([top, rootfs, bottom]);
    const r = await c.spawn(['sh', '-c', 'cat /etc/motd /etc/only-bottom; ls /etc/hidden 2>&1; echo w > /etc/only-bottom'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject(ok('top\nb\nls: /etc/hidden: No such file or directory\n'));
    // Every lower layer is as it was.
    expect(fs.readFileSync(path.join(bottom, 'etc', 'only-bottom'), 'utf8')).toBe('b\n');
    expect(fs.readFileSync(path.join(bottom, 'etc', 'hidden'), 'utf8')).toBe('you should not see me\n');
    await c.destroy();
    expect(layersLeft()).toEqual([]);
  });

  test('read-only over several layers: merged, with no writable layer', async () => {
    const top = layer({ 'etc/motd': 'top\n' });
    const c = withLayers([top, rootfs], { readonly: true });
    const r = await c.spawn(['sh', '-c', 'cat /etc/motd; touch /etc/motd'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject({ exitCode: 1, stdout: 'top\n', stderr: 'touch: /etc/motd: Read-only file system\n' });
    expect(layersLeft()).toEqual([]);
  });

  test('before Linux 6.8 (one lowerdir string of short paths) the same stack mounts the same way', async () => {
    process.env.TS_CONTAINER_TEST_OVERLAY_SINGLE_STRING = '1';
    try {
      const top = layer({ 'etc/motd': 'top\n', 'etc/passwd': null });
      const c = withLayers([top, rootfs]);
      const r = await c.spawn(['sh', '-c', 'cat /etc/motd; ls /etc/passwd 2>&1; grep -o "lowerdir[^,]*" /proc/self/mountinfo | head -n 1'], { stdio: 'pipe' }).output();
      expect(r).toMatchObject({ exitCode: 0, stderr: '' });
      expect(r.stdout).toMatch(/^top\nls: \/etc\/passwd: No such file or directory\nlowerdir=\/proc\/self\/fd\/\d+:\/proc\/self\/fd\/\d+\n$/);
    } finally {
      delete process.env.TS_CONTAINER_TEST_OVERLAY_SINGLE_STRING;
    }
  });

  test('past overlayfs\'s limit of 500 lower layers: a TypeError, and nothing is left', async () => {
    const c = withLayers(Array.from({ length: 501 }, () => rootfs));
    const error = await c.spawn(['true'], { stdio: 'ignore' }).wait().then(() => null, (e) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('image: has 501 layers; overlayfs stacks at most 500');
    expect(layersLeft()).toEqual([]);
    expect(fs.readdirSync(stateRoot)).not.toContain(c.id);
  });
});

test('a missing lower layer: a ContainerSetupError naming it, and nothing is left', async () => {
  const missing = path.join(base, 'no-such-rootfs');
  const c = make({ rootfs: missing });
  const error = await c.spawn(['true'], { stdio: 'ignore' }).wait().then(() => null, (e) => e);
  expect(error).toBeInstanceOf(ContainerSetupError);
  expect(error).toMatchObject({ code: 'ENOENT', step: `mount the rootfs overlay (lower layer ${missing})` });
  expect(layersLeft()).toEqual([]);
  expect(fs.readdirSync(stateRoot)).not.toContain(c.id);
});

test('a data root that others may write is refused before anything is made in it', async () => {
  const open = path.join(base, 'open-to-all');
  fs.mkdirSync(open, { mode: 0o777 });
  fs.chmodSync(open, 0o777);
  const c = make({ rootfs, dataRoot: path.join(open, 'data') });
  const error = await c.spawn(['true'], { stdio: 'ignore' }).wait().then(() => null, (e) => e);
  expect(error).toMatchObject({ code: 'EUNTRUSTEDDATAROOT', path: open });
  expect(fs.readdirSync(open)).toEqual([]);
  expect(fs.readdirSync(stateRoot)).not.toContain(c.id);
});

test('image and rootfs together, or rootfsOverlay without a rootfs: a TypeError', () => {
  expect(() => new Container({ rootfs, image: 'alpine:3.20' } as ContainerOptions)).toThrow(
    new TypeError('image: an image is the rootfs: give either image or rootfs, not both'),
  );
  expect(() => new Container({ rootfsOverlay: true })).toThrow(new TypeError("rootfsOverlay: needs a rootfs directory (the host's / is never written)"));
  expect(() => new Container({ rootfs, rootfsOverlay: 'yes' } as unknown as ContainerOptions)).toThrow(TypeError);
});

test('in a user namespace: container root owns its layer and writes there, the directory stays intact', async () => {
  const c = make({ rootfs, userns: true });
  const r = await c.spawn(['sh', '-c', 'echo mine > /made-here && cat /made-here && id -u'], { stdio: 'pipe' }).output();
  expect(r).toMatchObject(ok('mine\n0\n'));
  const made = fs.statSync(path.join(dataRoot, 'containers', c.id, 'upper', 'made-here'));
  expect(fs.readFileSync(path.join(stateRoot, c.id, 'state.json'), 'utf8')).toMatch(/"dataRoot"/);
  // Owned by container root as the host sees it: an id of ts-container's block, not host root.
  expect(made.uid).toBeGreaterThan(65535);
  expect(fs.existsSync(path.join(rootfs, 'made-here'))).toBe(false);
  await c.destroy();
  expect(layersLeft()).toEqual([]);
  expect(await removalsLeft()).toEqual([]);
});

test('a maker that exits without destroying its container takes the layer along', async () => {
  const roots = { stateRoot: path.join(base, 'exit-state'), dataRoot: path.join(base, 'exit-data') };
  const result = await runScript(`
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, stateRoot: ${JSON.stringify(roots.stateRoot)},
      dataRoot: ${JSON.stringify(roots.dataRoot)}, cgroupParent: ${JSON.stringify(runCgroupParent('overlay-exit'))} });
    const r = await c.spawn(['sh', '-c', 'echo x > /root/x && cat /root/x'], { stdio: 'pipe' }).output();
    console.log(r.stdout.trim(), require('node:fs').readdirSync(${JSON.stringify(path.join(roots.dataRoot, 'containers'))}).length);
  `);
  expect(result).toMatchObject({ code: 0, stdout: 'x 2\n' });
  expect(layersLeft(roots.dataRoot)).toEqual([]);
  expect(fs.readdirSync(roots.stateRoot)).toEqual([]);
});

describe('after a crash', () => {
  /** Starts a Node process that makes a container with a layer, and kills it -9 once it runs. */
  async function killedMaker(roots: { stateRoot: string; dataRoot: string }): Promise<string> {
    const child = startScript(`
      const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, stateRoot: ${JSON.stringify(roots.stateRoot)},
        dataRoot: ${JSON.stringify(roots.dataRoot)}, cgroupParent: ${JSON.stringify(runCgroupParent('overlay-crash'))} });
      const p = c.spawn(['sh', '-c', 'echo x > /root/x && echo ready && exec sleep 1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
      p.stdout.on('data', (d) => process.stdout.write(c.id + ' ' + d));
      await new Promise(() => undefined);
    `);
    let out = '';
    await new Promise<void>((resolve) =>
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      }),
    );
    child.kill('SIGKILL');
    await collect(child);
    return out.split(' ')[0];
  }

  test('kill -9 of the maker: the state root\'s sweep removes the layer with the container', async () => {
    const roots = { stateRoot: path.join(base, 'crash-state'), dataRoot: path.join(base, 'crash-data') };
    const id = await killedMaker(roots);
    expect(layersLeft(roots.dataRoot).sort()).toEqual([id, `${id}.json`].sort());
    await sweepStateRoot(roots.stateRoot);
    expect(layersLeft(roots.dataRoot)).toEqual([]);
    expect(fs.readdirSync(roots.stateRoot)).toEqual([]);
  });

  test('a layer whose state directory is gone (a state root on tmpfs after a reboot): the data root\'s sweep removes it', async () => {
    const roots = { stateRoot: path.join(base, 'lost-state'), dataRoot: path.join(base, 'lost-data') };
    const id = await killedMaker(roots);
    // The cgroup goes with the state root's sweep; the state directory is then lost by hand.
    fs.renameSync(path.join(roots.stateRoot, id), path.join(base, `lost-${id}`));
    expect(layersLeft(roots.dataRoot).sort()).toEqual([id, `${id}.json`].sort());
    await sweepDataRoot(roots.dataRoot);
    expect(layersLeft(roots.dataRoot)).toEqual([]);
    fs.renameSync(path.join(base, `lost-${id}`), path.join(roots.stateRoot, id));
    await sweepStateRoot(roots.stateRoot);
    expect(fs.readdirSync(roots.stateRoot)).toEqual([]);
  });
});

test('kill -9 while a destroyed layer is being removed: a later sweep finishes it', async () => {
  const roots = { stateRoot: path.join(base, 'mid-removal-state'), dataRoot: path.join(base, 'mid-removal-data') };
  // Many files in the upper layer, and the kill in the same turn as destroy's promise: the
  // background removal cannot have finished.
  const result = await runScript(`
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, stateRoot: ${JSON.stringify(roots.stateRoot)},
      dataRoot: ${JSON.stringify(roots.dataRoot)}, cgroupParent: ${JSON.stringify(runCgroupParent('overlay-mid-removal'))} });
    const r = await c.spawn(['sh', '-c', 'mkdir /root/many && cd /root/many && for i in $(seq 1 500); do mkdir d$i; echo $i > d$i/f; done'],
      { stdio: 'ignore' }).wait();
    if (r.exitCode !== 0) throw new Error('writing the files failed: ' + r.exitCode);
    await c.destroy();
    process.kill(process.pid, 'SIGKILL');
  `);
  expect(result.signal).toBe('SIGKILL');
  expect(layersLeft(roots.dataRoot)).toEqual([]);
  expect(readdirOrNone(path.join(roots.dataRoot, 'containers', '.removing'))).toHaveLength(1);
  // The state files' removal, which destroy() leaves for a moment later, was cut short too:
  // a hidden entry, which the state root's sweep removes.
  expect(fs.readdirSync(roots.stateRoot).filter((name) => !name.startsWith('.removing-'))).toEqual([]);
  resetSweepsForTest();
  await sweepStateRoot(roots.stateRoot);
  expect(fs.readdirSync(roots.stateRoot)).toEqual([]);
  resetDataRootSweepsForTest();
  await sweepDataRoot(roots.dataRoot);
  expect(layersLeft(roots.dataRoot)).toEqual([]);
  expect(await removalsLeft(roots.dataRoot)).toEqual([]);
});

test('a layer of the same id that another live container holds is refused and left alone', async () => {
  const other = path.join(base, 'other-state');
  const a = make({ rootfs, id: uniqueId('same') });
  expect(await a.spawn(['sh', '-c', 'echo a > /root/a'], { stdio: 'pipe' }).output()).toMatchObject(ok(''));
  const b = make({ rootfs, id: a.id, stateRoot: other });
  const error = await b.spawn(['true'], { stdio: 'ignore' }).wait().then(() => null, (e) => e);
  expect(error).toMatchObject({ code: 'ECONTAINEREXISTS' });
  expect(fs.readFileSync(path.join(dataRoot, 'containers', a.id, 'upper', 'root', 'a'), 'utf8')).toBe('a\n');
  expect(fs.readdirSync(other)).toEqual([]);
  await a.destroy();
  expect(layersLeft()).toEqual([]);
});

test('destroy() moves away only the layer it made: one put under its name since (another maker\'s) stays', async () => {
  const a = make({ rootfs, id: uniqueId('replaced') });
  expect(await a.spawn(['sh', '-c', 'echo a > /root/a'], { stdio: 'pipe' }).output()).toMatchObject(ok(''));
  const containers = path.join(dataRoot, 'containers');
  const record = path.join(containers, `${a.id}.json`);
  // As another maker of the id would leave them: its own directory and record under the name.
  const mine = path.join(base, `moved-aside-${a.id}`);
  fs.renameSync(path.join(containers, a.id), mine);
  fs.mkdirSync(path.join(containers, a.id, 'upper'), { recursive: true });
  fs.writeFileSync(path.join(containers, a.id, 'upper', 'theirs'), 'b\n');
  const theirs = { ...JSON.parse(fs.readFileSync(record, 'utf8')), stateRoot: path.join(base, 'another-state'), created: new Date(0).toISOString() };
  fs.writeFileSync(record, JSON.stringify(theirs));
  await a.destroy();
  expect(fs.readFileSync(path.join(containers, a.id, 'upper', 'theirs'), 'utf8')).toBe('b\n');
  expect(JSON.parse(fs.readFileSync(record, 'utf8'))).toEqual(theirs);
  expect(await removalsLeft()).toEqual([]);
  expect(fs.readFileSync(path.join(mine, 'upper', 'root', 'a'), 'utf8')).toBe('a\n');
  fs.rmSync(mine, { recursive: true });
  fs.rmSync(path.join(containers, a.id), { recursive: true });
  fs.unlinkSync(record);
});

test('a layer refused once the helper is at work (the id held by a live container elsewhere): the error, the program never ran, nothing left', async () => {
  // spawn() makes the writable layer after it sends the plan, while the helper clones the
  // process (native/helper/cgroup_gate.h): a layer that cannot be made ends what was cloned.
  const other = path.join(base, 'other-state-beside');
  const cgroupParent = runCgroupParent('overlay-beside');
  const seen = fs.mkdtempSync(path.join(base, 'seen-'));
  const a = make({ rootfs, id: uniqueId('beside') });
  expect(await a.spawn(['sh', '-c', 'echo a > /root/a'], { stdio: 'pipe' }).output()).toMatchObject(ok(''));
  const before = snapshot();
  const b = make({ rootfs, id: a.id, stateRoot: other, cgroupParent, mounts: [{ type: 'bind', source: seen, target: '/seen' }] });
  const p = b.spawn(['sh', '-c', 'touch /seen/ran'], { stdio: 'ignore' });
  const error = await p.wait().then(() => null, (e: unknown) => e);
  expect(error).toMatchObject({ code: 'ECONTAINEREXISTS' });
  await assertNothingLeft(before);
  expect(fs.readdirSync(seen)).toEqual([]);
  expect(fs.readdirSync(other)).toEqual([]);
  expect(cgroupsBelow(cgroupParent)).toEqual(emptyListing());
  // The other container's layer is untouched.
  expect(fs.readFileSync(path.join(dataRoot, 'containers', a.id, 'upper', 'root', 'a'), 'utf8')).toBe('a\n');
  await a.destroy();
  expect(layersLeft()).toEqual([]);
});
