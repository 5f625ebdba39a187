/**
 * The layer store across processes: an unpack killed with SIGKILL half-way leaves no layer
 * visible, a live unpack's temporary directory is never swept, a dead one's is, and the next
 * ensure finishes the job; two processes unpacking one layer at once both succeed with one
 * layer stored, the second waiting while the first unpacks and taking over when it is killed.
 * Plus the chain-id and removal rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { LayerStore, chainIds } from '../../lib/images/layer-store';
import { collect, removeScripts, startScript } from '../support/node-script';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { tarBytes } from '../support/tar-writer';
import { treeManifest } from '../support/tree-manifest';

const isRoot = process.getuid?.() === 0;
const describeIf = isRoot ? describe : describe.skip;
if (!isRoot) console.warn('layer-store: skipped: needs root (the store writes owners and overlay xattrs)');

const STORE_MODULE = path.resolve(__dirname, '..', '..', 'lib', 'images', 'layer-store');
const TAR = 'application/vnd.oci.image.layer.v1.tar';
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

afterAll(() => {
  removeScripts();
  removeTempDirs();
});

/** 6000 small files: more than one applier batch, so half of it is on disk before the end. */
function manyFiles(): Buffer {
  const entries = [{ name: 'files/', type: '5' }];
  for (let i = 0; i < 6000; i++) entries.push({ name: `files/f${i}`, data: `file ${i}\n` } as never);
  return tarBytes(entries);
}

/** A child that ensures the layer from `blobFile`; with `stallAfter`, the blob stops there forever. */
function ensureInChild(dataRoot: string, blobFile: string, stallAfter?: number) {
  return startScript(`
    const { LayerStore } = await import(${JSON.stringify(STORE_MODULE)});
    const { Readable } = await import('node:stream');
    const fs = await import('node:fs');
    const blob = fs.readFileSync(${JSON.stringify(blobFile)});
    const diffId = 'sha256:' + (await import('node:crypto')).createHash('sha256').update(blob).digest('hex');
    const stall = ${stallAfter ?? -1};
    const source = stall < 0 ? Readable.from([blob]) : Readable.from((async function* () {
      yield blob.subarray(0, stall);
      // Forever, with a timer that keeps the process alive until it is killed.
      await new Promise(() => setInterval(() => {}, 1000));
    })());
    const record = await new LayerStore(${JSON.stringify(dataRoot)}).ensure(diffId, null, () => source, { mediaType: ${JSON.stringify(TAR)}, diffId });
    console.log(JSON.stringify(record));
  `);
}

function waitFor(check: () => boolean, what: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

/** A data root, the 6000-file layer in a file beside it, its store, and the store's temporary directories. */
function layerFixture(prefix: string) {
  const dataRoot = path.join(tempDir(prefix), 'data');
  const blob = manyFiles();
  const blobFile = path.join(path.dirname(dataRoot), 'layer.tar');
  fs.writeFileSync(blobFile, blob);
  const store = new LayerStore(dataRoot);
  const temps = () => (fs.existsSync(store.root) ? fs.readdirSync(store.root).filter((n) => n.startsWith('.tmp-')) : []);
  return { dataRoot, blob, blobFile, store, temps };
}

/** Resolves once the stalled child of `temps` has its first files on disk. */
function firstFilesOnDisk(store: LayerStore, temps: () => string[]): Promise<void> {
  return waitFor(() => temps().length === 1 && fs.existsSync(path.join(store.root, temps()[0], 'diff', 'files', 'f100')), 'the first files');
}

describeIf('the layer store', () => {
  it('shows nothing of an unpack killed half-way, keeps a live one, and the next ensure finishes it', async () => {
    const { dataRoot, blob, blobFile, store, temps } = layerFixture('tsc-layer-kill-');
    const child = ensureInChild(dataRoot, blobFile, Math.floor(blob.length / 2));
    const done = collect(child, 120000);
    // Files of the first batch on disk, in the child's temporary directory.
    await firstFilesOnDisk(store, temps);
    const live = temps()[0];
    // Another store sweeps while the child works: its directory stays.
    expect(await new LayerStore(dataRoot).list()).toEqual([]);
    expect(temps()).toEqual([live]);
    expect(await store.has(sha256(blob))).toBe(false);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(await store.has(sha256(blob))).toBe(false);
    // The next store sweeps the dead one's directory and unpacks the layer whole.
    const next = new LayerStore(dataRoot);
    const record = await next.ensure(sha256(blob), null, () => Readable.from([blob]), { mediaType: TAR, diffId: sha256(blob) });
    expect(record.diffId).toBe(sha256(blob));
    expect(fs.readdirSync(store.root)).toEqual([sha256(blob).slice(7)]);
    expect(fs.readdirSync(path.join(next.dir(sha256(blob)), 'files'))).toHaveLength(6000);
  }, 180_000);

  it('two processes unpacking the same layer at once both succeed, and one copy stays', async () => {
    const dataRoot = path.join(tempDir('tsc-layer-race-'), 'data');
    const blob = manyFiles();
    const blobFile = path.join(path.dirname(dataRoot), 'layer.tar');
    fs.writeFileSync(blobFile, blob);
    const results = await Promise.all([collect(ensureInChild(dataRoot, blobFile), 120000), collect(ensureInChild(dataRoot, blobFile), 120000)]);
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).chainId).toBe(sha256(blob));
    }
    const store = new LayerStore(dataRoot);
    expect((await store.list()).map((l) => l.chainId)).toEqual([sha256(blob)]);
    expect(fs.readdirSync(store.root)).toEqual([sha256(blob).slice(7)]);
  }, 180_000);

  it('a second process waits while another unpacks the layer, and unpacks it itself once that one is killed', async () => {
    const { dataRoot, blob, blobFile, store, temps } = layerFixture('tsc-layer-wait-');
    const first = ensureInChild(dataRoot, blobFile, Math.floor(blob.length / 2));
    const firstDone = collect(first, 120000);
    await firstFilesOnDisk(store, temps);
    const second = ensureInChild(dataRoot, blobFile);
    const secondDone = collect(second, 120000);
    // The second has the layer's lock file open: it is at the lock, waiting.
    const lockFile = path.join(store.root, `.lock-${sha256(blob).slice(7)}`);
    const holdsOpen = (pid: number) => {
      try {
        return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === lockFile);
      } catch {
        return false;
      }
    };
    await waitFor(() => holdsOpen(second.pid as number), 'the second process to reach the lock');
    // One unpack at a time: no second temporary directory, and the second has not finished.
    expect(temps()).toHaveLength(1);
    expect(second.exitCode).toBeNull();
    first.kill('SIGKILL');
    expect((await firstDone).signal).toBe('SIGKILL');
    const r = await secondDone;
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout).chainId).toBe(sha256(blob));
    expect(fs.readdirSync(path.join(store.dir(sha256(blob)), 'files'))).toHaveLength(6000);
    // The dead one's directory and lock file are swept.
    expect(fs.readdirSync(store.root)).toEqual([sha256(blob).slice(7)]);
  }, 180_000);

  it('sweeps a temporary directory without a lock file once the process its name gives is gone', async () => {
    const dataRoot = path.join(tempDir('tsc-layer-lockless-'), 'data');
    const store = new LayerStore(dataRoot);
    await store.list(); // makes the store's directory
    const hex = 'ab'.repeat(32);
    // A process killed between making its directory and its lock file: its pid is free now.
    const exited = startScript('process.exit(0)');
    await collect(exited, 10000);
    const dead = `.tmp-${hex}-${exited.pid}-000000000000`;
    // One of a live process (this one's parent, the test runner), and one named before names
    // had a pid: both on their way, kept (the second for the grace period).
    const live = `.tmp-${hex}-${process.ppid}-111111111111`;
    const unnamed = `.tmp-${hex}-222222222222`;
    for (const name of [dead, live, unnamed]) fs.mkdirSync(path.join(store.root, name, 'diff'), { recursive: true });
    await new LayerStore(dataRoot).sweep();
    expect(fs.readdirSync(store.root).filter((n) => n.startsWith('.tmp-')).sort()).toEqual([live, unnamed].sort());
  });

  it('checks chain ids, needs the layers below, and removes a layer whole', async () => {
    const store = new LayerStore(path.join(tempDir('tsc-layer-ids-'), 'data'));
    const base = tarBytes([
      { name: './', type: '5', mode: 0o711, uid: 0, gid: 7 },
      { name: 'etc/', type: '5', mode: 0o750, uid: 0, gid: 42 },
      { name: 'etc/base', data: 'base\n' },
    ]);
    const top = tarBytes([{ name: 'etc/top', data: 'top\n' }]);
    const [baseId, topId] = chainIds([sha256(base), sha256(top)]);
    expect(baseId).toBe(sha256(base));
    expect(topId).toBe(`sha256:${createHash('sha256').update(`${sha256(base)} ${sha256(top)}`).digest('hex')}`);
    const open = (b: Buffer) => () => Readable.from([b]);
    await expect(store.ensure(topId, null, open(top), { mediaType: TAR, diffId: sha256(top) })).rejects.toThrow(TypeError);
    await expect(store.ensure(topId, baseId, open(top), { mediaType: TAR, diffId: sha256(top) })).rejects.toThrow(/not unpacked/);
    await store.ensure(baseId, null, open(base), { mediaType: TAR, diffId: sha256(base) });
    await store.ensure(topId, baseId, open(top), { mediaType: TAR, diffId: sha256(top) });
    expect(await store.stackBelow(topId)).toEqual([store.dir(topId), store.dir(baseId)]);
    // etc/ is not in the top layer's tar: made for etc/top, it takes the base layer's attributes.
    const etc = fs.statSync(path.join(store.dir(topId), 'etc'));
    expect([etc.mode & 0o7777, etc.gid]).toEqual([0o750, 42]);
    // So does the layer's root, which the top tar does not name either.
    const root = fs.statSync(store.dir(topId));
    expect([root.mode & 0o7777, root.gid]).toEqual([0o711, 7]);
    await store.remove(topId);
    expect(await store.has(topId)).toBe(false);
    expect((await store.list()).map((l) => l.chainId)).toEqual([baseId]);
    expect(fs.readdirSync(store.root)).toEqual([baseId.slice(7)]);
  });

  it('a layer unpacked while the one below is still on its way ends exactly as one unpacked after it', async () => {
    const work = tempDir('tsc-layer-parent-ready-');
    const base = tarBytes([
      { name: './', type: '5', mode: 0o751, uid: 3, gid: 4, mtime: 1000, xattrs: { 'user.root': 'r' } },
      { name: 'a/', type: '5', mode: 0o710, uid: 1000, gid: 1001, mtime: 2000, xattrs: { 'user.kept': 'lower', 'trusted.t': 'lower-t' } },
      { name: 'a/deep/', type: '5', mode: 0o700, uid: 9, gid: 9, mtime: 3000 },
      { name: 'b/', type: '5', mode: 0o705, uid: 5, gid: 6, mtime: 4000, xattrs: { 'user.kept': 'lower-b', 'user.both': 'lower' } },
      { name: 'd/', type: '5', mode: 0o700, uid: 8, gid: 8, mtime: 5000, xattrs: { 'user.d': 'lower' } },
    ]);
    const top = tarBytes([
      // a/ and a/deep/ are left out: they take the base's attributes, the root too.
      { name: 'a/deep/file', data: 'x\n', mtime: 6000 },
      { name: 'a/new/file', data: 'y\n', mtime: 6000 },
      // b/ is made for b/file, then named: its own owner, mode, mtime and xattrs win, and the base's other xattrs stay.
      { name: 'b/file', data: 'z\n', mtime: 6000 },
      { name: 'b/', type: '5', mode: 0o755, uid: 11, gid: 12, mtime: 7000, xattrs: { 'user.both': 'own', 'user.own': 'own' } },
      // d/ is made for d/x, then replaced by a file: nothing of it is left to inherit.
      { name: 'd/x', data: '1\n' },
      { name: 'd', data: 'now a file\n', mode: 0o600, mtime: 8000 },
    ]);
    const [baseId, topId] = chainIds([sha256(base), sha256(top)]);
    const open = (b: Buffer) => () => Readable.from([b]);
    const options = (b: Buffer) => ({ mediaType: TAR, diffId: sha256(b) });

    // In order, as before: the base first.
    const inOrder = new LayerStore(path.join(work, 'in-order'));
    await inOrder.ensure(baseId, null, open(base), options(base));
    await inOrder.ensure(topId, baseId, open(top), options(top));

    // The top first: it unpacks while the base waits, and is visible only after the base.
    const early = new LayerStore(path.join(work, 'early'));
    let releaseBase: () => void = () => {};
    const baseHeld = new Promise<void>((resolve) => (releaseBase = resolve));
    let baseEnsure: Promise<unknown> | undefined;
    const parentReady = baseHeld.then(() => (baseEnsure = early.ensure(baseId, null, open(base), options(base))));
    const topEnsure = early.ensure(topId, baseId, open(top), { ...options(top), parentReady: parentReady.then(() => baseEnsure) });
    await waitFor(() => fs.existsSync(early.root) && fs.readdirSync(early.root).some((n) => n.startsWith('.tmp-')), 'the top layer unpacking');
    expect(await early.has(topId)).toBe(false);
    releaseBase();
    await topEnsure;

    // a/new is in neither tar nor the base: made at unpack time, it has that mtime.
    const tree = (dir: string) => {
      const t = treeManifest(dir, { mtimes: true });
      return { ...t, entries: t.entries.map((e) => (e.path === 'a/new' ? { ...e, mtime: 'unpack time' } : e)) };
    };
    const inOrderTree = tree(inOrder.dir(topId));
    const earlyTree = tree(early.dir(topId));
    expect(earlyTree).toEqual(inOrderTree);
    const byPath = new Map(earlyTree.entries.map((e) => [e.path, e]));
    const hex = (text: string) => Buffer.from(text).toString('hex');
    expect(byPath.get('.')).toMatchObject({ mode: '0o751', uid: 3, gid: 4, mtime: '1000000000000', xattrs: { 'user.root': hex('r') } });
    expect(byPath.get('a')).toMatchObject({ mode: '0o710', uid: 1000, gid: 1001, mtime: '2000000000000', xattrs: { 'user.kept': hex('lower'), 'trusted.t': hex('lower-t') } });
    expect(byPath.get('a/deep')).toMatchObject({ mode: '0o700', uid: 9, gid: 9, mtime: '3000000000000' });
    expect(byPath.get('a/new')).toMatchObject({ mode: '0o755', uid: 0, gid: 0 });
    expect(byPath.get('b')).toMatchObject({ mode: '0o755', uid: 11, gid: 12, mtime: '7000000000000', xattrs: { 'user.kept': hex('lower-b'), 'user.both': hex('own'), 'user.own': hex('own') } });
    expect(byPath.get('d')).toMatchObject({ type: 'file', mode: '0o600' });
  });

  it('a layer whose parent fails while it unpacks fails too, and leaves nothing', async () => {
    const store = new LayerStore(path.join(tempDir('tsc-layer-parent-fails-'), 'data'));
    const base = tarBytes([{ name: 'etc/', type: '5' }]);
    const top = tarBytes([{ name: 'etc/top', data: 'top\n' }]);
    const [baseId, topId] = chainIds([sha256(base), sha256(top)]);
    const parentReady = Promise.reject(new Error('the base layer failed'));
    await expect(store.ensure(topId, baseId, () => Readable.from([top]), { mediaType: TAR, diffId: sha256(top), parentReady })).rejects.toThrow('the base layer failed');
    expect(await store.has(topId)).toBe(false);
    expect(fs.readdirSync(store.root)).toEqual([]);
  });
});
