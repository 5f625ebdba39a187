/**
 * ContainerCgroup over fake hierarchies (temp dirs): the directories it makes, the files
 * it writes (controllers enabled on the way down on v2, cpuset inherited on v1, limits),
 * what it hands the helper, and its typed errors. On a plain directory a write to a new
 * file just creates it, so the files written can be read back.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CgroupError, ContainerCgroup } from '../../lib/cgroups/container-cgroup';
import * as cgroupFs from '../../lib/cgroups/cgroup-fs';
import type { Hierarchies } from '../../lib/cgroups/hierarchy';
import { normalizeResources, NormalizedResources } from '../../lib/cgroups/resources';

const MiB = 1024 * 1024;
let root: string;
let n = 0;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), `tsc-cg-unit-cc-${n++}-`));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function norm(r: Parameters<typeof normalizeResources>[0]): NormalizedResources {
  return normalizeResources(r) as NormalizedResources;
}

function read(...parts: string[]): string {
  return fs.readFileSync(path.join(...parts), 'utf8');
}

function mkdir(...parts: string[]): string {
  const d = path.join(...parts);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

function v2(controllers = ['cpuset', 'cpu', 'io', 'memory', 'pids'], own = '/'): Hierarchies {
  const mount = mkdir(root, 'unified');
  mkdir(mount, own);
  return { unified: { mount, own, controllers }, v1: [] };
}

function v1(own = '/', withUnified = false): Hierarchies {
  const h: Hierarchies = { unified: null, v1: [] };
  for (const controllers of [['cpu', 'cpuacct'], ['memory'], ['pids'], ['cpuset'], ['freezer'], ['blkio']]) {
    const mount = mkdir(root, controllers.join(','));
    mkdir(mount, own);
    h.v1.push({ mount, own, controllers });
  }
  // A fresh v1 cpuset cgroup has no CPUs: the root's values are what gets inherited.
  fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.cpus'), '0-3\n');
  fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.mems'), '0\n');
  if (withUnified) h.unified = { mount: mkdir(root, 'unified'), own, controllers: [] };
  return h;
}

describe('cgroup v2', () => {
  test('makes <mount><parent>/<name>, enables controllers on the way down, writes the limits', () => {
    const h = v2();
    const cg = ContainerCgroup.create('box1', '/jobs/ci', norm({ memory: '64m', memorySwap: '64m', pids: 10, cpus: 0.5, cpuWeight: 200, cpuset: '1' }), h);
    const dir = path.join(root, 'unified', 'jobs', 'ci', 'box1');
    expect(cg.unifiedDir).toBe(dir);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    // Every cgroup above the container's enables what it needs for its children.
    for (const d of ['', 'jobs', 'jobs/ci']) {
      const enabled = read(root, 'unified', d, 'cgroup.subtree_control').split(' ').sort();
      expect(enabled).toEqual(['+cpu', '+cpuset', '+io', '+memory', '+pids']);
    }
    expect(read(dir, 'memory.max')).toBe(String(64 * MiB));
    expect(read(dir, 'pids.max')).toBe('10');
    expect(read(dir, 'cpu.max')).toBe('50000 100000');
    expect(read(dir, 'cpu.weight')).toBe('200');
    expect(read(dir, 'cpuset.cpus')).toBe('1');
    // No swap accounting in this tree: memory.swap.max is not made up.
    expect(fs.existsSync(path.join(dir, 'memory.swap.max'))).toBe(false);
    expect(cg.v1Dirs.size).toBe(0);
    // The container sees its own cgroup at /sys/fs/cgroup ("-"), bound from the host's directory.
    expect(cg.plan()).toEqual({ cgroup2Path: dir, v1Procs: [], pidsDir: dir, mounts: [`- ${dir}`], links: [] });
  });

  test('default parent: ts-container below our own cgroup', () => {
    const h = v2(['memory', 'pids'], '/user.slice/session-2.scope');
    const cg = ContainerCgroup.create('box2', undefined, null, h);
    expect(cg.unifiedDir).toBe(path.join(root, 'unified', 'user.slice', 'session-2.scope', 'ts-container', 'box2'));
    expect(fs.existsSync(cg.unifiedDir as string)).toBe(true);
    // Only controllers the host offers are enabled (stats want memory, pids, cpu, io).
    expect(read(root, 'unified', 'user.slice', 'session-2.scope', 'ts-container', 'cgroup.subtree_control')).toBe('+memory +pids');
  });

  test('controllers already enabled are not written again', () => {
    const h = v2(['memory', 'pids', 'cpu', 'io']);
    fs.writeFileSync(path.join(root, 'unified', 'cgroup.subtree_control'), 'cpu io memory pids\n');
    ContainerCgroup.create('box3', '/p', norm({ pids: 3 }), h);
    expect(read(root, 'unified', 'cgroup.subtree_control')).toBe('cpu io memory pids\n');
    expect(read(root, 'unified', 'p', 'cgroup.subtree_control')).toBe('+memory +pids +cpu +io');
  });

  test('no resources: a cgroup without limit files', () => {
    const cg = ContainerCgroup.create('box4', '/p', null, v2());
    const files = fs.readdirSync(cg.unifiedDir as string);
    expect(files).toEqual([]);
  });

  test('a limit whose controller the host lacks: CgroupError ENOCONTROLLER naming it, nothing made', () => {
    const h = v2(['memory']);
    let error: unknown;
    try {
      ContainerCgroup.create('box5', '/p', norm({ memory: '8m', pids: 5 }), h);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CgroupError);
    expect(error).toMatchObject({ code: 'ENOCONTROLLER' });
    expect((error as Error).message).toMatch(/the pids controller is not available/);
    expect(fs.existsSync(path.join(root, 'unified', 'p'))).toBe(false);
  });

  test('the same name twice: CgroupError EEXIST; the first cgroup stays', () => {
    const h = v2();
    const first = ContainerCgroup.create('box6', '/p', norm({ pids: 5 }), h);
    expect(() => ContainerCgroup.create('box6', '/p', norm({ pids: 7 }), h)).toThrow(CgroupError);
    try {
      ContainerCgroup.create('box6', '/p', null, h);
    } catch (e) {
      expect(e).toMatchObject({ code: 'EEXIST', name: 'CgroupError' });
      expect((e as Error).message).toContain('box6');
    }
    expect(read(first.unifiedDir as string, 'pids.max')).toBe('5');
  });

  test('update writes only what it names', () => {
    const cg = ContainerCgroup.create('box7', '/p', norm({ memory: '64m', pids: 5 }), v2());
    cg.update(norm({ pids: 50 }));
    expect(read(cg.unifiedDir as string, 'pids.max')).toBe('50');
    expect(read(cg.unifiedDir as string, 'memory.max')).toBe(String(64 * MiB));
  });

  test('stats and pids come from the cgroup files', () => {
    const cg = ContainerCgroup.create('box8', '/p', null, v2());
    const dir = cg.unifiedDir as string;
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), '101\n102\n');
    fs.writeFileSync(path.join(dir, 'pids.current'), '2\n');
    fs.writeFileSync(path.join(dir, 'memory.current'), '8192\n');
    fs.writeFileSync(path.join(dir, 'memory.events'), 'oom 1\noom_kill 1\n');
    expect(cg.pids()).toEqual([101, 102]);
    expect(cg.stats()).toMatchObject({ pids: { current: 2, limit: null }, memory: { current: 8192, oomKills: 1 } });
  });

  test('freeze writes cgroup.freeze and waits for cgroup.events; thaw writes 0', async () => {
    const cg = ContainerCgroup.create('box9', '/p', null, v2());
    const dir = cg.unifiedDir as string;
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '0\n');
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    const frozen = cg.freeze();
    let done = false;
    void frozen.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(read(dir, 'cgroup.freeze')).toBe('1');
    expect(done).toBe(false); // the kernel has not said "frozen 1" yet
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await frozen;
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    await cg.thaw();
    expect(read(dir, 'cgroup.freeze')).toBe('0');
  });

  test('signalAll(SIGKILL) uses cgroup.kill where the kernel has it', () => {
    const cg = ContainerCgroup.create('box10', '/p', null, v2());
    fs.writeFileSync(path.join(cg.unifiedDir as string, 'cgroup.kill'), '');
    cg.signalAll(9);
    expect(read(cg.unifiedDir as string, 'cgroup.kill')).toBe('1');
  });

  test('signalAll(SIGKILL) on a cgroup removed between its check and its write (by its owner, the last process gone) does nothing', () => {
    const cg = ContainerCgroup.create('box10b', '/p', null, v2());
    fs.writeFileSync(path.join(cg.unifiedDir as string, 'cgroup.kill'), '');
    const exists = jest.spyOn(cgroupFs, 'cgroupFileExists').mockImplementation(() => {
      fs.rmSync(cg.unifiedDir as string, { recursive: true, force: true });
      return true;
    });
    try {
      expect(() => cg.signalAll(9)).not.toThrow();
    } finally {
      exists.mockRestore();
    }
  });

  test('remove takes the container\'s own cgroup away, and leaves the parent', async () => {
    const cg = ContainerCgroup.create('box11', '/p', norm({ pids: 4 }), v2());
    const dir = cg.unifiedDir as string;
    // cgroupfs has no files to delete; the fake tree has: clear them first.
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    await cg.remove();
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.existsSync(path.dirname(dir))).toBe(true);
    expect(cg.removeNow()).toBe(true);
  });
});

describe('attached from a state record (a container made by another process)', () => {
  /** cgroupfs has no files to delete; the fake tree has: clear them first. */
  function emptyFiles(dir: string): void {
    for (const f of fs.readdirSync(dir, { withFileTypes: true })) if (f.isFile()) fs.rmSync(path.join(dir, f.name));
  }

  test('the default parent stays when its last container goes (made once, never removed)', () => {
    const h = v1();
    const only = ContainerCgroup.create('only', undefined, null, h);
    const parents = only.directories().map((d) => path.dirname(d));
    for (const dir of [...only.directories(), ...parents]) emptyFiles(dir);
    expect(ContainerCgroup.attach(JSON.parse(JSON.stringify(only.record())), h).removeNow()).toBe(true);
    for (const dir of only.directories()) expect(fs.existsSync(dir)).toBe(false);
    for (const parent of parents) expect(fs.existsSync(parent)).toBe(true);
  });

  test('a parent the library made goes with its last container; one that was there stays', () => {
    const h = v2();
    mkdir(root, 'unified', 'existing');
    const made = ContainerCgroup.create('a', '/existing/made', null, h);
    const second = ContainerCgroup.create('b', '/existing/made', null, h);
    const parent = path.dirname(made.unifiedDir as string);
    for (const dir of [made.unifiedDir as string, second.unifiedDir as string, parent]) emptyFiles(dir);
    expect(ContainerCgroup.attach(made.record(), h).removeNow()).toBe(true);
    expect(fs.existsSync(parent)).toBe(true);
    expect(second.removeNow()).toBe(true);
    expect(fs.existsSync(parent)).toBe(false);
    expect(fs.existsSync(path.dirname(parent))).toBe(true);
  });

  test('a record naming a cgroup ts-container did not make is ignored', () => {
    const h = v2();
    const foreign = mkdir(root, 'unified', 'system.slice', 'sshd.service');
    const cg = ContainerCgroup.attach({ unified: foreign, v1: [] }, h);
    expect(cg.directories()).toEqual([]);
    expect(cg.removeNow()).toBe(true);
    expect(fs.existsSync(foreign)).toBe(true);
  });
});

describe('cgroup v1 and hybrid', () => {
  test('one cgroup per hierarchy; cpuset inherited from the parent; limits spread across controllers', () => {
    const h = v1();
    const cg = ContainerCgroup.create('box20', '/jobs', norm({ memory: '32m', cpus: 1.5, cpuWeight: 10000, pids: 8 }), h);
    const dirOf = (hier: string) => path.join(root, hier, 'jobs', 'box20');
    for (const hier of ['cpu,cpuacct', 'memory', 'pids', 'cpuset', 'freezer', 'blkio']) {
      expect(fs.statSync(dirOf(hier)).isDirectory()).toBe(true);
    }
    expect(cg.unifiedDir).toBeNull();
    expect(cg.v1Dirs.get('cpu')).toBe(dirOf('cpu,cpuacct'));
    expect(cg.v1Dirs.get('cpuacct')).toBe(dirOf('cpu,cpuacct'));
    expect(cg.v1Dirs.get('memory')).toBe(dirOf('memory'));
    expect(read(dirOf('memory'), 'memory.limit_in_bytes')).toBe(String(32 * MiB));
    expect(read(dirOf('cpu,cpuacct'), 'cpu.cfs_period_us')).toBe('100000');
    expect(read(dirOf('cpu,cpuacct'), 'cpu.cfs_quota_us')).toBe('150000');
    expect(read(dirOf('cpu,cpuacct'), 'cpu.shares')).toBe('262144');
    expect(read(dirOf('pids'), 'pids.max')).toBe('8');
    // The new parent and the container got the root's CPUs and memory nodes.
    expect(read(root, 'cpuset', 'jobs', 'cpuset.cpus')).toBe('0-3');
    expect(read(root, 'cpuset', 'jobs', 'cpuset.mems')).toBe('0');
    expect(read(dirOf('cpuset'), 'cpuset.cpus')).toBe('0-3');
    expect(read(dirOf('cpuset'), 'cpuset.mems')).toBe('0');
    expect(cg.plan()).toEqual({
      cgroup2Path: undefined,
      v1Procs: ['cpu,cpuacct', 'memory', 'pids', 'cpuset', 'freezer', 'blkio'].map((x) => path.join(dirOf(x), 'cgroup.procs')),
      // The helper checks pids.max there after moving a process in (a move is not limited by v1).
      pidsDir: dirOf('pids'),
      // /sys/fs/cgroup/<hierarchy> in the container: the container's own cgroup there.
      mounts: ['cpu,cpuacct', 'memory', 'pids', 'cpuset', 'freezer', 'blkio'].map((x) => `${x} ${dirOf(x)}`),
      // Each controller of the co-mounted hierarchy by its own name too, as the host names them.
      links: ['cpu cpu,cpuacct', 'cpuacct cpu,cpuacct'],
    });
  });

  test('a cpuset limit replaces the inherited CPUs', () => {
    const cg = ContainerCgroup.create('box21', '/jobs', norm({ cpuset: '1' }), v1());
    expect(read(cg.v1Dirs.get('cpuset') as string, 'cpuset.cpus')).toBe('1');
  });

  test('default parent: ts-container below our own cgroup in each hierarchy', () => {
    const cg = ContainerCgroup.create('box22', undefined, null, v1('/system.slice/ci.service'));
    expect(cg.v1Dirs.get('memory')).toBe(path.join(root, 'memory', 'system.slice', 'ci.service', 'ts-container', 'box22'));
  });

  test('hybrid: a cgroup in the empty unified hierarchy too (the process is cloned into it); limits go to v1', () => {
    const h = v1('/', true);
    const cg = ContainerCgroup.create('box23', '/jobs', norm({ memory: '16m', pids: 4 }), h);
    const unifiedDir = path.join(root, 'unified', 'jobs', 'box23');
    expect(cg.unifiedDir).toBe(unifiedDir);
    expect(fs.readdirSync(unifiedDir)).toEqual([]);
    expect(read(cg.v1Dirs.get('memory') as string, 'memory.limit_in_bytes')).toBe(String(16 * MiB));
    expect(read(cg.v1Dirs.get('pids') as string, 'pids.max')).toBe('4');
    const plan = cg.plan();
    expect(plan.cgroup2Path).toBe(unifiedDir);
    expect(plan.mounts[plan.mounts.length - 1]).toBe(`unified ${unifiedDir}`);
    expect(plan.v1Procs).toHaveLength(6);
    expect(plan.pidsDir).toBe(cg.v1Dirs.get('pids'));
  });

  test('a limit whose v1 controller is missing: CgroupError ENOCONTROLLER', () => {
    const h = v1();
    h.v1 = h.v1.filter((x) => !x.controllers.includes('pids'));
    expect(() => ContainerCgroup.create('box24', '/jobs', norm({ pids: 4 }), h)).toThrow(
      expect.objectContaining({ name: 'CgroupError', code: 'ENOCONTROLLER' }),
    );
    expect(fs.existsSync(path.join(root, 'memory', 'jobs', 'box24'))).toBe(false);
  });

  test('freeze through the v1 freezer', async () => {
    const cg = ContainerCgroup.create('box25', '/jobs', null, v1());
    const dir = cg.v1Dirs.get('freezer') as string;
    await cg.freeze();
    expect(read(dir, 'freezer.state')).toBe('FROZEN');
    await cg.thaw();
    expect(read(dir, 'freezer.state')).toBe('THAWED');
  });

  test('stats from the v1 files', () => {
    const cg = ContainerCgroup.create('box26', '/jobs', null, v1());
    fs.writeFileSync(path.join(cg.v1Dirs.get('cpuacct') as string, 'cpuacct.usage'), '123456789\n');
    fs.writeFileSync(path.join(cg.v1Dirs.get('pids') as string, 'pids.current'), '3\n');
    expect(cg.stats()).toMatchObject({ cpu: { usageNs: 123456789 }, pids: { current: 3 } });
  });
});

describe('planned before made (the helper gets the plan while Node makes the cgroups)', () => {
  test.each([
    ['v2, a parent of its own', () => v2(), '/jobs/ci'],
    ['v2, the default parent', () => v2(['memory', 'pids'], '/user.slice/session-2.scope'), undefined],
    ['v1, the default parent', () => v1('/system.slice/ci.service'), undefined],
    ['hybrid, a parent of its own', () => v1('/', true), '/jobs'],
  ])('%s: planned() names exactly what create() makes, and nothing exists before', (_name, hierarchies, parent) => {
    const h = hierarchies();
    const planned = ContainerCgroup.planned('box30', parent, h);
    const dirs = [planned.cgroup2Path, ...planned.v1Procs.map((procs) => path.dirname(procs))].filter((d) => d !== undefined);
    expect(dirs.length).toBeGreaterThan(0);
    for (const dir of dirs) expect(fs.existsSync(dir as string)).toBe(false);
    const cg = ContainerCgroup.create('box30', parent, null, h);
    expect(cg.plan()).toEqual(planned);
  });
});

describe('made in two parts on a hybrid host (the process is cloned into its cgroup2 directory)', () => {
  test.each([
    ['a parent of its own', '/jobs'],
    ['the default parent', undefined],
  ])('%s: createPrimary() makes every parent and the cgroup2 directory alone, locked; finishCreate() the rest, as create() would', (_name, parent) => {
    const h = v1('/', true);
    const planned = ContainerCgroup.planned('box40', parent, h);
    const cg = ContainerCgroup.createPrimary('box40', parent, norm({ memory: '16m' }), h, true, 2048);
    const unifiedDir = planned.cgroup2Path as string;
    expect(cg.unifiedDir).toBe(unifiedDir);
    expect(fs.existsSync(unifiedDir)).toBe(true);
    expect(cg.ownerLockFd).toBeGreaterThanOrEqual(0);
    // The v1 parents are ready, their container directories not made yet.
    for (const procs of planned.v1Procs) {
      expect(fs.existsSync(path.dirname(path.dirname(procs)))).toBe(true);
      expect(fs.existsSync(path.dirname(procs))).toBe(false);
    }
    cg.finishCreate();
    expect(cg.plan()).toEqual(planned);
    expect(read(cg.v1Dirs.get('memory') as string, 'memory.limit_in_bytes')).toBe(String(16 * MiB));
    expect(read(cg.v1Dirs.get('pids') as string, 'pids.max')).toBe('2048');
    expect(cg.directories()).toEqual([unifiedDir, ...planned.v1Procs.map((procs) => path.dirname(procs))]);
  });

  test('a v1 directory that cannot be made: finishCreate() throws CgroupError EEXIST and removes the cgroup2 directory too', () => {
    const h = v1('/', true);
    const planned = ContainerCgroup.planned('box41', '/jobs', h);
    const cg = ContainerCgroup.createPrimary('box41', '/jobs', null, h);
    const blocker = path.dirname(planned.v1Procs[planned.v1Procs.length - 1]);
    fs.mkdirSync(blocker);
    expect(() => cg.finishCreate()).toThrow(expect.objectContaining({ name: 'CgroupError', code: 'EEXIST' }));
    expect(fs.existsSync(planned.cgroup2Path as string)).toBe(false);
    // Each v1 directory made before it is gone too, but the cpuset one: on a plain directory the
    // CPUs it inherited are files that keep it from an rmdir (on cgroupfs they go with it).
    const made = planned.v1Procs.slice(0, -1).map((procs) => path.dirname(procs));
    for (const dir of made.filter((d) => !d.includes(`${path.sep}cpuset${path.sep}`))) expect(fs.existsSync(dir)).toBe(false);
    expect(cg.ownerLockFd).toBe(-1);
  });

  test('only a host with cgroup2 and v1 hierarchies both makes it in two parts', () => {
    expect(ContainerCgroup.makesCgroup2First(v1('/', true))).toBe(true);
    expect(ContainerCgroup.makesCgroup2First(v1())).toBe(false);
    expect(ContainerCgroup.makesCgroup2First(v2())).toBe(false);
    expect(() => ContainerCgroup.createPrimary('box42', undefined, null, v2())).toThrow(/no cgroup2 and v1 hierarchies both/);
  });
});

describe('removal off the event loop', () => {
  /** Holds every thread of libuv's pool in an open(2) of a FIFO until the returned function opens their other ends. */
  async function holdThreadPool(): Promise<() => Promise<void>> {
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const fifos = Array.from({ length: threads }, (_, i) => path.join(root, `hold-${i}`));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    const opens = fifos.map((fifo) => fs.promises.open(fifo, 'r'));
    // Each open waits on the pool for a writer: give them a moment to be taken up by its threads.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return async () => {
      for (const fifo of fifos) fs.closeSync(fs.openSync(fifo, 'w'));
      for (const handle of await Promise.all(opens)) await handle.close();
    };
  }

  test('settled on Node\'s thread, an attempt still queued on the pool removes nothing when it runs: the next cgroup of the name stays', async () => {
    const h = v1('/', true);
    const cg = ContainerCgroup.create('box40', '/jobs', null, h);
    const dirs = [cg.unifiedDir as string, ...new Set(cg.v1Dirs.values())];
    // The fake tree has files cgroupfs would not: cleared, so that rmdir works as it does there.
    for (const dir of dirs) for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    const release = await holdThreadPool();
    let removal: Promise<void>;
    try {
      // At the container's exit: an attempt on the pool, queued behind the held threads.
      removal = cg.remove(true);
      // destroy(): the removal is finished here, and the name is free.
      cg.settleRemoval();
      for (const dir of dirs) expect(fs.existsSync(dir)).toBe(false);
      // The next container of the same name makes its cgroups (and the parent, gone with the last) before the pool gets to the attempt.
      for (const dir of dirs) fs.mkdirSync(dir, { recursive: true });
    } finally {
      await release();
    }
    await removal;
    for (const dir of dirs) expect(fs.existsSync(dir)).toBe(true);
  });

  test('settled after the pool removed everything but before Node heard of it: the next cgroup of the name, made meanwhile, stays', async () => {
    const h = v1('/', true);
    const cg = ContainerCgroup.create('box41', '/jobs', null, h);
    const dirs = [cg.unifiedDir as string, ...new Set(cg.v1Dirs.values())];
    for (const dir of dirs) for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    const removal = cg.remove(true);
    // Without yielding to the event loop (so its outcome is not taken yet), until the pool has removed them all.
    const deadline = Date.now() + 10_000;
    while (dirs.some((dir) => fs.existsSync(dir)) && Date.now() < deadline);
    for (const dir of dirs) expect(fs.existsSync(dir)).toBe(false);
    // Another process makes the next cgroup of the name at once; then destroy() settles this one.
    for (const dir of dirs) fs.mkdirSync(dir, { recursive: true });
    cg.settleRemoval();
    await removal;
    for (const dir of dirs) expect(fs.existsSync(dir)).toBe(true);
  });
});
