/**
 * On a hybrid host, a default container's v1 cgroups are made ahead, once the spawn before it
 * has handed its helper all it waits for, and renamed to its name when it is spawned
 * (lib/cgroups/cgroups-ahead.ts). What a user sees must not change: the container is in its
 * own cgroup of every hierarchy, with the default pids limit and device list; a container the
 * set was not made for makes its own; a set never outlives its maker, killed -9 or not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container } from '../../lib';
import { hostHierarchies } from '../../lib/cgroups/hierarchy';
import { parentPath } from '../../lib/cgroups/cgroup-parent';
import { v1DeviceRules } from '../../lib/cgroups/device-rules';
import { removeStaleCgroups, resetCgroupSweepsForTest } from '../../lib/cgroups/stale-cgroups';
import { DEFAULT_PIDS_LIMIT } from '../../lib/options/defaults';
import { collect, removeScripts, runScript, startScript, waitForFile } from '../support/node-script';
import { describeWhen } from '../support/skip';
import { eventually, isPureV2, rootfs } from './support';
import * as os from 'node:os';

/** Each v1 hierarchy's default parent (a set made ahead has a directory in each). */
function defaultParents(): string[] {
  return hostHierarchies().v1.map((hierarchy) => parentPath(hierarchy, undefined));
}

/** The sets made ahead by process `pid` in each default parent: their directories. */
function setsOf(pid: number): string[] {
  const found: string[] = [];
  for (const parent of defaultParents()) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(parent);
    } catch {
      // no default parent in this hierarchy (any more)
    }
    for (const name of names) if (name.startsWith(`.ahead-${pid}.`)) found.push(path.join(parent, name));
  }
  return found;
}

const identity = (dir: string): string => {
  const st = fs.statSync(dir);
  return `${st.dev}:${st.ino}`;
};
const identities = (dirs: string[]): string[] => dirs.map(identity);

/**
 * The set this process made ahead since `before` (its directories then): one directory in each
 * v1 hierarchy. (Another test file run earlier in this jest worker, with its own copy of the
 * library, may have left one of its own, under the same pid.)
 */
async function newSet(before: string[]): Promise<string[]> {
  const fresh = (): string[] => setsOf(process.pid).filter((dir) => !before.includes(dir));
  expect(await eventually(() => fresh().length === defaultParents().length)).toBe(true);
  return fresh();
}

/**
 * Two default containers made and destroyed: a process makes sets ahead from its second
 * default container on (one that makes a single one makes none).
 */
async function warmUp(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const warm = new Container({ rootfs });
    await warm.spawn(['true'], { stdio: 'ignore' }).wait();
    await warm.destroy();
  }
}

const hybrid = !isPureV2() && hostHierarchies().unified !== null;

describeWhen(hybrid, 'a hybrid cgroup host (v1 hierarchies and a cgroup2 one)')('v1 cgroups made ahead', () => {
  afterAll(() => removeScripts());

  test('the next default container takes them: in its own cgroup of every hierarchy, with the default pids limit and device list', async () => {
    const before = setsOf(process.pid);
    await warmUp();
    const set = await newSet(before);
    const made = identities(set);

    const c = new Container({ rootfs });
    try {
      const p = c.spawn(['sleep', '60'], { stdio: 'ignore' });
      await p.started;
      const dirs = hostHierarchies().v1.map((hierarchy) => path.join(parentPath(hierarchy, undefined), c.id));
      // The very directories made ahead, renamed: none was made for it.
      expect(dirs.map(identity).sort()).toEqual([...made].sort());
      // The program is in each of them, as the kernel says of it.
      const lines = fs.readFileSync(`/proc/${p.pid}/cgroup`, 'utf8').trim().split('\n');
      for (const hierarchy of hostHierarchies().v1) {
        const line = lines.find((l) => l.split(':')[1] === hierarchy.controllers.join(','));
        expect(line?.endsWith(`/ts-container/${c.id}`)).toBe(true);
      }
      for (const dir of dirs) expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()).toBe(String(p.pid));
      const pidsDir = dirs[hostHierarchies().v1.findIndex((h) => h.controllers.includes('pids'))];
      if (pidsDir) expect(fs.readFileSync(path.join(pidsDir, 'pids.max'), 'utf8').trim()).toBe(String(DEFAULT_PIDS_LIMIT));
      const devicesDir = dirs[hostHierarchies().v1.findIndex((h) => h.controllers.includes('devices'))];
      if (devicesDir) {
        const listed = fs.readFileSync(path.join(devicesDir, 'devices.list'), 'utf8').trim().split('\n');
        expect(listed).not.toContain('a *:* rwm');
        for (const rule of v1DeviceRules() ?? []) expect(listed).toContain(rule);
      }
      // From inside too: a block device it was not given stays closed.
      const inside = await c.exec(['sh', '-c', 'mknod /tmp/blk b 8 0 2>/dev/null; head -c1 /tmp/blk >/dev/null 2>&1 && echo opened || echo refused']).output();
      expect(inside.stdout.trim()).toBe('refused');
      // Taken whole: none of it is left under its name, and the set made next is another.
      expect(set.filter((dir) => fs.existsSync(dir))).toEqual([]);
      const next = identities(await newSet(before));
      expect(next.some((id) => made.includes(id))).toBe(false);
    } finally {
      await c.destroy();
    }
  });

  test('a container the set was not made for makes its own: privileged, another pids limit, a cgroupParent', async () => {
    const before = setsOf(process.pid);
    await warmUp();
    // The warm-ups took any set ready before them; the one made after the second waits.
    const made = await newSet(before);
    const parent = `tsc-ahead-${process.pid}`;
    for (const options of [{ privileged: true }, { resources: { pids: 64 } }, { cgroupParent: parent }]) {
      const c = new Container({ rootfs, ...options });
      try {
        await c.spawn(['true'], { stdio: 'ignore' }).wait();
      } finally {
        await c.destroy();
      }
      // Still there, untaken.
      expect(made.filter((dir) => !fs.existsSync(dir))).toEqual([]);
    }
    for (const mount of mounts()) {
      try {
        fs.rmdirSync(path.join(mount, parent));
      } catch {
        // removed with its last container, or never made in this hierarchy
      }
    }
  });

  test("a process that makes a single container makes none ahead; Node's exit removes a set nobody took", async () => {
    const made = (count: number): string => `for (let i = 0; i < ${count}; i++) {
        const c = new Container({ rootfs: ${JSON.stringify(rootfs)} });
        await c.spawn(['true'], { stdio: 'ignore' }).wait();
        await c.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log(process.pid, require('node:fs').readdirSync(${JSON.stringify(defaultParents()[0])}).filter((name) => name.startsWith('.ahead-' + process.pid + '.')).length);`;
    const single = await runScript(made(1));
    expect(single.code).toBe(0);
    expect(single.stdout.trim().split(' ')[1]).toBe('0');
    const two = await runScript(made(2));
    expect(two.code).toBe(0);
    // It had one, and left none.
    expect(two.stdout.trim().split(' ')[1]).toBe('1');
    expect(setsOf(Number(two.stdout.trim().split(' ')[0]))).toEqual([]);
  });

  test("a set whose maker was killed -9 is removed by another process's sweep, and a live maker's is left alone", async () => {
    const marks = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-ahead-'));
    const ready = path.join(marks, 'ready');
    const child = startScript(`for (let i = 0; i < 2; i++) {
        const c = new Container({ rootfs: ${JSON.stringify(rootfs)} });
        await c.spawn(['true'], { stdio: 'ignore' }).wait();
        await c.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      require('node:fs').writeFileSync(${JSON.stringify(ready)}, process.pid + '\\n');
      // Kept running until killed.
      setInterval(() => undefined, 1000);`);
    const exited = collect(child, 60000);
    try {
      const [pid] = await waitForFile(ready);
      const sets = setsOf(Number(pid));
      expect(sets.length).toBe(defaultParents().length);
      // Alive: a sweep leaves its set alone.
      resetCgroupSweepsForTest();
      await removeStaleCgroups(undefined);
      expect(setsOf(Number(pid))).toEqual(sets);
      child.kill('SIGKILL');
      await exited;
      resetCgroupSweepsForTest();
      await removeStaleCgroups(undefined);
      expect(setsOf(Number(pid))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(marks, { recursive: true, force: true });
    }
  });
});

/** Each hierarchy's mount (a cgroupParent is a path below it). */
function mounts(): string[] {
  const h = hostHierarchies();
  return [...(h.unified ? [h.unified] : []), ...h.v1].map((hierarchy) => hierarchy.mount);
}
