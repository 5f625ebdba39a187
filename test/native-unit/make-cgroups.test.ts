/**
 * makeContainerCgroups (native/addon/cgroup_maker.h): a container's cgroups made in one native
 * call, as lib/cgroups/container-cgroup.ts made them one system call at a time. Checked on
 * plain directories standing for the hierarchies (a write to a file there creates it, so what
 * was written can be read back): the order, the marks, the lock, the cpuset copied from the
 * parent, the device rules, the pids limit, a failure that leaves nothing it made, and the
 * rest of a make whose primary directory an earlier call made (lockFirst: false).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../lib/native/binding';
import { markName } from '../../lib/cgroups/cgroup-mark';

let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-make-cgroups-'));
  for (const hierarchy of ['unified', 'cpuset', 'devices', 'pids']) fs.mkdirSync(path.join(scratch, hierarchy, 'parent'), { recursive: true });
  fs.writeFileSync(path.join(scratch, 'cpuset', 'parent', 'cpuset.cpus'), '0-1\n');
  fs.writeFileSync(path.join(scratch, 'cpuset', 'parent', 'cpuset.mems'), '0\n');
});

afterEach(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function dirOf(hierarchy: string, name = 'box'): string {
  return path.join(scratch, hierarchy, 'parent', name);
}

/** Whether another open of `dir` finds its flock held. */
function lockHeld(dir: string): boolean {
  const fd = fs.openSync(dir, 'r');
  try {
    return !native().tryLock(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function spec(name = 'box') {
  return {
    dirs: ['unified', 'cpuset', 'devices', 'pids'].map((h) => dirOf(h, name)),
    mark: markName(),
    cpusets: [dirOf('cpuset', name)],
    devices: { dir: dirOf('devices', name), rules: ['c 1:3 rwm', 'c 5:0 rwm'] },
    pidsLimit: { dir: dirOf('pids', name), limit: 2048 },
  };
}

/**
 * The directories alone. On cgroupfs a cgroup's files come and go with it; here the files
 * written would make a directory that must be removed again not empty.
 */
function dirsOnly(name = 'box') {
  return { dirs: spec(name).dirs, mark: markName(), cpusets: [] };
}

test('makes every directory, marked; cpuset from the parent, devices denied then allowed one rule per write, pids.max', () => {
  const fd = native().makeContainerCgroups(spec());
  try {
    for (const h of ['unified', 'cpuset', 'devices', 'pids']) {
      expect(fs.statSync(dirOf(h)).isDirectory()).toBe(true);
      expect(native().getXattr(dirOf(h), markName())).toBe('container');
    }
    expect(fs.readFileSync(path.join(dirOf('cpuset'), 'cpuset.cpus'), 'utf8')).toBe('0-1');
    expect(fs.readFileSync(path.join(dirOf('cpuset'), 'cpuset.mems'), 'utf8')).toBe('0');
    expect(fs.readFileSync(path.join(dirOf('devices'), 'devices.deny'), 'utf8')).toBe('a');
    // Two writes to one open file: the kernel would have taken one rule each.
    expect(fs.readFileSync(path.join(dirOf('devices'), 'devices.allow'), 'utf8')).toBe('c 1:3 rwmc 5:0 rwm');
    expect(fs.readFileSync(path.join(dirOf('pids'), 'pids.max'), 'utf8')).toBe('2048');
    // The fd is the first directory's, and its flock is held: nobody else can take it.
    expect(fs.fstatSync(fd).ino).toBe(fs.statSync(dirOf('unified')).ino);
    expect(lockHeld(dirOf('unified'))).toBe(true);
  } finally {
    fs.closeSync(fd);
  }
});

test('a directory that exists: EEXIST naming it, and what was made before it is removed', () => {
  fs.mkdirSync(dirOf('devices'));
  let thrown: NodeJS.ErrnoException & { path?: string } = new Error('none');
  try {
    native().makeContainerCgroups(dirsOnly());
  } catch (error) {
    thrown = error as typeof thrown;
  }
  expect(thrown).toMatchObject({ code: 'EEXIST', path: dirOf('devices'), step: `make the cgroup ${dirOf('devices')}` });
  expect(fs.existsSync(dirOf('unified'))).toBe(false);
  expect(fs.existsSync(dirOf('cpuset'))).toBe(false);
  // Not its own: left as it was.
  expect(fs.existsSync(dirOf('devices'))).toBe(true);
  expect(fs.existsSync(dirOf('pids'))).toBe(false);
});

test('a parent that is gone: ENOENT, nothing made', () => {
  fs.rmSync(path.join(scratch, 'pids', 'parent'), { recursive: true });
  expect(() => native().makeContainerCgroups(dirsOnly())).toThrow(expect.objectContaining({ code: 'ENOENT', path: dirOf('pids') }));
  for (const h of ['unified', 'cpuset', 'devices']) expect(fs.existsSync(dirOf(h))).toBe(false);
});

test('the first directory exists (another container of the name): EEXIST, and it stays as it was', () => {
  const first = native().makeContainerCgroups(spec('first'));
  try {
    expect(() => native().makeContainerCgroups(spec('first'))).toThrow(expect.objectContaining({ code: 'EEXIST', path: dirOf('unified', 'first') }));
    for (const h of ['unified', 'cpuset', 'devices', 'pids']) expect(fs.existsSync(dirOf(h, 'first'))).toBe(true);
  } finally {
    fs.closeSync(first);
  }
});

test('a malformed spec is a TypeError and makes nothing', () => {
  const bad = [
    undefined,
    { ...spec(), dirs: [] },
    { ...spec(), dirs: ['relative/dir'] },
    { ...spec(), mark: 5 },
    { ...spec(), cpusets: 'x' },
    { ...spec(), devices: { dir: 'relative', rules: [] } },
    { ...spec(), pidsLimit: { dir: dirOf('pids'), limit: -1 } },
    { ...spec(), lockFirst: 'no' },
  ];
  for (const value of bad) {
    // The addon's TypeError, of Node's own realm rather than the test's.
    expect(() => native().makeContainerCgroups(value as never)).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^makeContainerCgroups/) }));
  }
  for (const h of ['unified', 'cpuset', 'devices', 'pids']) expect(fs.existsSync(dirOf(h))).toBe(false);
});

test('lockFirst false: the rest of a make whose primary an earlier call made: each marked, none locked, -1', () => {
  const primary = native().makeContainerCgroups({ dirs: [dirOf('unified')], mark: markName(), cpusets: [] });
  try {
    const rest = spec().dirs.slice(1);
    expect(native().makeContainerCgroups({ ...spec(), dirs: rest, lockFirst: false })).toBe(-1);
    for (const dir of rest) expect(native().getXattr(dir, markName())).toBe('container');
    expect(fs.readFileSync(path.join(dirOf('pids'), 'pids.max'), 'utf8')).toBe('2048');
    // The first of these is no primary: nobody holds its lock. The primary's is the earlier call's.
    expect(lockHeld(rest[0])).toBe(false);
    expect(lockHeld(dirOf('unified'))).toBe(true);
  } finally {
    fs.closeSync(primary);
  }
});

test('lockFirst false and a directory that exists: EEXIST, what it made removed, the primary left to its maker', () => {
  const primary = native().makeContainerCgroups({ dirs: [dirOf('unified')], mark: markName(), cpusets: [] });
  try {
    fs.mkdirSync(dirOf('pids'));
    const rest = dirsOnly().dirs.slice(1);
    expect(() => native().makeContainerCgroups({ dirs: rest, mark: markName(), cpusets: [], lockFirst: false })).toThrow(
      expect.objectContaining({ code: 'EEXIST', path: dirOf('pids') }),
    );
    expect(fs.existsSync(dirOf('cpuset'))).toBe(false);
    expect(fs.existsSync(dirOf('devices'))).toBe(false);
    expect(fs.existsSync(dirOf('unified'))).toBe(true);
  } finally {
    fs.closeSync(primary);
  }
});
