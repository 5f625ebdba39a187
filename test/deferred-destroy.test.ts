/**
 * destroy() resolves once the container's processes are dead and its id is free, and leaves
 * the removal of its state files and cgroup to run after it: the same id can be made again at
 * once, the deferred work finishes when Node exits right after, and what a kill -9 in the
 * middle of it leaves, the next process's sweep removes. State writes (writeAtomic) are seen
 * whole by readers, and what a writer killed half way leaves is swept too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib/index';
import { DirectoryHandle } from '../lib/state/state-io';
import { allHierarchies, parentPath } from '../lib/cgroups/cgroup-parent';
import { hostHierarchies } from '../lib/cgroups/hierarchy';
import { resetSweepsForTest, sweepStateRoot } from '../lib/state/sweep';
import { spawnsHoldingBackgroundWork } from '../lib/state/quiet-moment';
import { removeCgroupsAhead } from '../lib/cgroups/cgroups-ahead';
import { collect, removeScripts, runScript, startScript, waitForFile } from './support/node-script';
import { cgroupMounts, containerLeftovers, leftoverCount } from './support/container-leftovers';
import { RUN_TAG, runCgroupParent, uniqueId } from './support/unique';

let root: string;
let pauses: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-deferred-'));
  pauses = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-deferred-pauses-'));
});

afterAll(() => {
  removeScripts();
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(pauses, { recursive: true, force: true });
});

/** Every cgroup directory of the parent, in any hierarchy, that is still there. */
function parentDirsLeft(cgroupParent: string): string[] {
  return cgroupMounts()
    .map((mount) => path.join(mount, cgroupParent))
    .filter((dir) => fs.existsSync(dir));
}

async function settled(id: string, stateRoot: string): Promise<ReturnType<typeof containerLeftovers>> {
  let left = containerLeftovers(id, stateRoot);
  for (let waited = 0; leftoverCount(left) > 0 && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = containerLeftovers(id, stateRoot);
  }
  return left;
}

test('the id of a destroyed container can be made again at once, in the same process', async () => {
  const id = uniqueId('again');
  for (let round = 0; round < 3; round++) {
    const c = new Container({ id, stateRoot: root, network: 'none' });
    const p = c.spawn(['sh', '-c', 'exit 3'], { stdio: 'ignore' });
    expect((await p.wait()).exitCode).toBe(3);
    await c.destroy();
    // The id is free: listed nowhere, and its state directory's name is gone.
    expect((await Container.list({ stateRoot: root })).map((e) => e.id)).not.toContain(id);
    expect(fs.existsSync(path.join(root, id))).toBe(false);
  }
  const last = new Container({ id, stateRoot: root, network: 'none' });
  try {
    await last.spawn(['sleep', '100'], { stdio: 'ignore' }).started;
    expect(await last.state()).toMatchObject({ id, status: 'running' });
  } finally {
    await last.destroy();
  }
  expect(leftoverCount(await settled(id, root))).toBe(0);
  expect(fs.readdirSync(root)).toEqual([]);
});

test('the main process exits while execs and their children run: when destroy() resolves, all are dead and the cgroups gone', async () => {
  const id = uniqueId('init-gone');
  const c = new Container({ id, stateRoot: root, network: 'none', cgroupParent: runCgroupParent('init-gone') });
  const main = c.spawn(['sh', '-c', 'sleep 300 & read line; exit 0'], { stdio: 'pipe' });
  await main.started;
  const exec = c.exec(['sh', '-c', 'sleep 300 & sleep 300 & echo started; exec sleep 300'], { stdio: 'pipe' });
  await new Promise<void>((resolve) => exec.stdout!.once('data', () => resolve()));
  // main's sh, its sleep; the exec's sh (now a sleep) and its two sleeps.
  const pids = containerLeftovers(id, root).processes;
  expect(pids.length).toBeGreaterThanOrEqual(5);
  main.stdin!.end();
  expect(await main.wait()).toMatchObject({ exitCode: 0 });
  await c.destroy();
  expect(pids.filter((pid) => fs.existsSync(`/proc/${pid}`))).toEqual([]);
  expect(containerLeftovers(id, root)).toMatchObject({ cgroups: [], processes: [] });
  expect(await exec.wait()).toMatchObject({ signal: 'SIGKILL' });
});

test('destroyed while the next containers are made: their removals wait for each hand-over, and nothing is left; no spawn holds them after it ends, failed or not', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const id = uniqueId(`next-${i}`);
    ids.push(id);
    const c = new Container({ id, stateRoot: root, network: 'none' });
    const p = c.spawn(['true'], { stdio: 'ignore' });
    // Held from the call until the helper has all it waits for.
    expect(spawnsHoldingBackgroundWork()).toBe(1);
    expect((await p.wait()).exitCode).toBe(0);
    expect(spawnsHoldingBackgroundWork()).toBe(0);
    await c.destroy();
  }
  // Spawns that fail at each stage hold nothing once they have failed.
  const taken = new Container({ id: uniqueId('taken'), stateRoot: root, network: 'none' });
  const running = taken.spawn(['sleep', '30'], { stdio: 'ignore' });
  await running.started;
  expect(() => new Container({ id: taken.id, stateRoot: root, network: 'none' }).spawn(['true'])).toThrow(/exists|in use/i);
  const aborted = new Container({ stateRoot: root, network: 'none' });
  await expect(aborted.spawn(['true'], { signal: AbortSignal.abort() }).wait()).rejects.toMatchObject({ name: 'AbortError' });
  const missing = new Container({ stateRoot: root, network: 'none' });
  await expect(missing.spawn(['/no/such/program']).wait()).rejects.toThrow(/no\/such\/program/);
  expect(spawnsHoldingBackgroundWork()).toBe(0);
  await Promise.all([taken.destroy(), aborted.destroy(), missing.destroy()]);
  for (const id of [...ids, taken.id, aborted.id, missing.id]) expect(leftoverCount(await settled(id, root))).toBe(0);
});

test('destroy() then process.exit(): the deferred removals finish before the process ends', async () => {
  const id = uniqueId('exit');
  const cgroupParent = runCgroupParent('deferred-exit');
  const stateRoot = fs.mkdtempSync(path.join(root, 'exit-'));
  const result = await runScript(`
    const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(stateRoot)}, cgroupParent: ${JSON.stringify(cgroupParent)}, network: 'none' });
    const p = c.spawn(['true'], { stdio: 'ignore' });
    await p.wait();
    await c.destroy();
    process.exit(0);
  `);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  // No state directory, no hidden trash, no cgroup and no parent cgroup: nothing at all.
  expect(fs.readdirSync(stateRoot)).toEqual([]);
  expect(containerLeftovers(id, stateRoot)).toEqual({ stateEntries: [], cgroups: [], processes: [], mounts: [] });
  expect(parentDirsLeft(cgroupParent)).toEqual([]);
});

test('kill -9 in the middle of the deferred removal: the next process sweeps every bit of it', async () => {
  const id = uniqueId('killed');
  const cgroupParent = runCgroupParent('deferred-kill');
  const stateRoot = fs.mkdtempSync(path.join(root, 'kill-'));
  const pauseFile = path.join(pauses, `paused-${RUN_TAG}`);
  const child = startScript(
    `
      const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(stateRoot)}, cgroupParent: ${JSON.stringify(cgroupParent)}, network: 'none' });
      await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
      await c.destroy();
      console.log('destroyed');
      await new Promise(() => undefined);
    `,
    { TS_CONTAINER_TEST_PAUSE_AT: 'deferred-removal', TS_CONTAINER_TEST_PAUSE_FILE: pauseFile },
  );
  const done = collect(child);
  const [step, pid] = await waitForFile(pauseFile);
  expect(step).toBe('deferred-removal');
  process.kill(Number(pid), 'SIGKILL');
  const killed = await done;
  // destroy() had resolved: the removal it left was what the kill cut short.
  expect(killed.stdout).toContain('destroyed');
  const trash = fs.readdirSync(stateRoot);
  expect(trash).toEqual([expect.stringMatching(new RegExp(`^\\.removing-${id}\\.`))]);
  // A new process's first spawn in that root and parent sweeps what was left.
  const other = uniqueId('sweeper');
  const next = await runScript(`
    const c = new Container({ id: ${JSON.stringify(other)}, stateRoot: ${JSON.stringify(stateRoot)}, cgroupParent: ${JSON.stringify(cgroupParent)}, network: 'none' });
    await c.spawn(['true'], { stdio: 'ignore' }).wait();
    await c.destroy();
  `);
  expect({ code: next.code, stderr: next.stderr }).toEqual({ code: 0, stderr: '' });
  expect(leftoverCount(await settled(id, stateRoot))).toBe(0);
  expect(fs.readdirSync(stateRoot)).toEqual([]);
  expect(parentDirsLeft(cgroupParent)).toEqual([]);
});

test('a reader never sees a state file half written while another process replaces it', async () => {
  const dir = fs.mkdtempSync(path.join(root, 'writes-'));
  const big = (n: number): string => JSON.stringify({ n, fill: 'x'.repeat(64 * 1024) });
  fs.writeFileSync(path.join(dir, 'state.json'), big(0));
  // Another process replaces the file as fast as it can while this one reads it.
  const stateIo = path.resolve(__dirname, '..', 'lib', 'state', 'state-io');
  const writer = startScript(`
    const { DirectoryHandle } = await import(${JSON.stringify(stateIo)});
    const handle = DirectoryHandle.open(${JSON.stringify(dir)});
    const fill = 'x'.repeat(64 * 1024);
    for (let n = 1; n <= 1000; n++) handle.writeAtomic('state.json', JSON.stringify({ n, fill }));
  `);
  const written = collect(writer);
  let reads = 0;
  let last = 0;
  let exited = false;
  void written.then(() => (exited = true));
  const handle = DirectoryHandle.open(dir);
  try {
    while (!exited) {
      const record = JSON.parse(handle.readText('state.json') as string) as { n: number; fill: string };
      expect(record.fill.length).toBe(64 * 1024);
      expect(record.n).toBeGreaterThanOrEqual(last);
      last = record.n;
      reads++;
      if (reads % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    handle.close();
  }
  expect((await written).code).toBe(0);
  expect(reads).toBeGreaterThan(0);
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).n).toBe(1000);
  // Only the file itself: every temporary went (into place, or unlinked with the old bytes).
  expect(fs.readdirSync(dir)).toEqual(['state.json']);
});

test('the sweep removes what a writer killed half way left in a kept container, and nothing else', async () => {
  const stateRoot = fs.mkdtempSync(path.join(root, 'temps-'));
  const id = uniqueId('kept');
  const c = new Container({ id, stateRoot, detach: true, network: 'none' });
  try {
    await c.spawn(['sleep', '100']).started;
    const dir = path.join(stateRoot, id);
    const stale = path.join(dir, '.run.json.4242');
    const fresh = path.join(dir, '.state.json.4243.0');
    fs.writeFileSync(stale, '{"half');
    fs.writeFileSync(fresh, '{"being written');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    fs.utimesSync(stale, twoMinutesAgo, twoMinutesAgo);
    resetSweepsForTest();
    await sweepStateRoot(stateRoot);
    // The old one was a dead writer's; a fresh one may be a live write's.
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
    expect(await c.state()).toMatchObject({ id, status: 'running' });
  } finally {
    await c.destroy();
  }
  expect(leftoverCount(await settled(id, stateRoot))).toBe(0);
});

test('a default parent cgroup removed by another process meanwhile is made again by the next spawn', async () => {
  const stateRoot = fs.mkdtempSync(path.join(root, 'parent-'));
  const first = new Container({ id: uniqueId('parent-a'), stateRoot, network: 'none' });
  await first.spawn(['true'], { stdio: 'ignore' }).wait();
  await first.destroy();
  // The cgroups this process made ahead for its next spawn (cgroups-ahead.ts) would keep the
  // parent busy: as in a process that has made none yet.
  removeCgroupsAhead();
  // What another process's exit does with an empty default parent: it removes it.
  let removed = 0;
  for (const hierarchy of allHierarchies(hostHierarchies())) {
    try {
      fs.rmdirSync(parentPath(hierarchy, undefined));
      removed++;
    } catch {
      // another test's container is in it
    }
  }
  const second = new Container({ id: uniqueId('parent-b'), stateRoot, network: 'none' });
  try {
    expect((await second.spawn(['true'], { stdio: 'ignore' }).wait()).exitCode).toBe(0);
  } finally {
    await second.destroy();
  }
  if (removed === 0) console.warn('no default parent was empty: the remake path was not exercised');
});
