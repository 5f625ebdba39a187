/**
 * Where a container's cgroup is and what the container sees of it: by default a
 * `ts-container` group below the caller's own cgroup in every hierarchy (cgroupParent
 * overrides it), a cgroup namespace whose root is the container's cgroup, and a read-only
 * view of it at /sys/fs/cgroup.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container } from '../../lib';
import {
  cgroupTestFile,
  eventually,
  hierarchies,
  hostCgroupDir,
  insideCgroupFile,
  isPureV2,
  onV1,
  readHostCgroupFile,
  rootfs,
  startedAndPrinted,
} from './support';
import { testWhen } from '../support/skip';

const { parent, make } = cgroupTestFile('layout');

test('by default the cgroup is <mount>/<own cgroup>/ts-container/<id> in every hierarchy, and goes with destroy', async () => {
  const c = new Container({ rootfs, readonly: true, resources: { pids: 16 } });
  const dirs = hierarchies().map(({ hierarchy }) => path.join(hierarchy.mount, hierarchy.own, 'ts-container', c.id));
  try {
    const p = c.spawn(['sleep', '60']);
    await p.started;
    for (const dir of dirs) {
      expect(fs.existsSync(dir)).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')).toBe(`${p.pid}\n`);
    }
  } finally {
    await c.destroy();
  }
  expect(await eventually(() => dirs.every((d) => !fs.existsSync(d)))).toBe(true);
});

test('a program that exits by itself: its cgroups go without destroy(); after destroy() none is left at once', async () => {
  // Removed after such an exit on libuv's pool, not before 'close': destroy() still resolves
  // only once that removal has run, here with a nested parent the library made, 20 times.
  const nested = `${parent}/exited`;
  const dirsOf = (id: string): string[] => hierarchies().map(({ hierarchy }) => path.join(hierarchy.mount, nested, id));
  const left = (dirs: string[]): string[] => dirs.filter((d) => fs.existsSync(d));
  const alone = make({ cgroupParent: nested });
  await alone.spawn(['true'], { stdio: 'ignore' }).wait();
  expect(await eventually(() => left(dirsOf(alone.id)).length === 0)).toBe(true);
  await alone.destroy();
  for (let i = 0; i < 20; i++) {
    const c = make({ cgroupParent: nested });
    await c.spawn(['true'], { stdio: 'ignore' }).wait();
    await c.destroy();
    expect(left(dirsOf(c.id))).toEqual([]);
    expect(left(hierarchies().map(({ hierarchy }) => path.join(hierarchy.mount, nested)))).toEqual([]);
  }
});

test('in the default parent, a program that exits by itself: after destroy() none of its cgroups is left at once', async () => {
  // Most often the removal begun at the exit has done every rmdir by then, and only takes note
  // of it a turn later: destroy() does not wait for that turn, the directories are gone already.
  for (let i = 0; i < 20; i++) {
    const c = new Container({ rootfs, readonly: true });
    const dirs = hierarchies().map(({ hierarchy }) => path.join(hierarchy.mount, hierarchy.own, 'ts-container', c.id));
    await c.spawn(['true'], { stdio: 'ignore' }).wait();
    await c.destroy();
    expect(dirs.filter((d) => fs.existsSync(d))).toEqual([]);
  }
});

test('cgroupParent places the cgroup at <mount><cgroupParent>/<id>; a nested parent is made as needed, and goes with its last container', async () => {
  const nested = `${parent}/jobs/ci`;
  const c = make({ cgroupParent: nested, resources: { pids: 16 } });
  const p = c.spawn(['sleep', '60']);
  await p.started;
  for (const { hierarchy } of hierarchies()) {
    const dir = path.join(hierarchy.mount, nested, c.id);
    expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')).toBe(`${p.pid}\n`);
  }
  await c.destroy();
  for (const { hierarchy } of hierarchies()) {
    expect(fs.existsSync(path.join(hierarchy.mount, nested, c.id))).toBe(false);
    // The parents the library made went with their last container.
    expect(fs.existsSync(path.join(hierarchy.mount, nested))).toBe(false);
    expect(fs.existsSync(path.join(hierarchy.mount, parent, 'jobs'))).toBe(false);
  }
});

test('inside, /proc/self/cgroup shows the root of every hierarchy (a cgroup namespace)', async () => {
  const c = make({ resources: { pids: 16 } });
  const out = await c.spawn(['cat', '/proc/self/cgroup'], { stdio: 'pipe' }).output();
  expect(out.exitCode).toBe(0);
  const lines = out.stdout.trim().split('\n');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(/^\d+:[^:]*:\/$/);
  if (isPureV2()) expect(lines).toEqual(['0::/']);
});

test("inside, /sys/fs/cgroup is the container's own cgroup, read-only", async () => {
  const c = make({ resources: { pids: 16, memory: '64m' } });
  const pidsMax = insideCgroupFile('pids', 'pids.max', 'pids.max');
  const procs = path.join(path.dirname(pidsMax), 'cgroup.procs');
  const p = c.spawn(
    ['sh', '-c', `cat ${pidsMax}; while read pid; do echo $pid; done < ${procs}; mkdir ${path.dirname(pidsMax)}/sub; echo 1000 > ${pidsMax}; echo ready; exec sleep 60`],
    { stdio: 'pipe' },
  );
  const out = await startedAndPrinted(p, 'ready');
  // Its own limit, and only itself as a process (pid 1 of its namespace; `read` is a builtin).
  expect(out).toBe('16\n1\nready\n');
  // Neither the mkdir nor the write got through.
  expect(readHostCgroupFile(parent, c.id, 'pids', 'pids.max', 'pids.max').trim()).toBe('16');
  expect(fs.existsSync(path.join(hostCgroupDir(parent, c.id, 'pids'), 'sub'))).toBe(false);
  const mounts = await c.exec(['grep', ' /sys/fs/cgroup', '/proc/self/mountinfo'], { stdio: 'pipe' }).output();
  for (const line of mounts.stdout.trim().split('\n')) expect(line.split(' ')[5]).toMatch(/^ro,/);
});

/** A disk of this host (not a loop, ram, zram or nbd device), or undefined. */
const hostDisk = fs
  .readdirSync('/sys/block')
  .map((name) => `/dev/${name}`)
  .find((d) => !/\/(loop|ram|zram|nbd)/.test(d) && fs.existsSync(d) && fs.statSync(d).isBlockDevice());

testWhen(hostDisk, 'no block device on this host')('io read throttling reaches the kernel for a block device of this host', async () => {
  const device = hostDisk as string;
  const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(device)}/dev`, 'utf8').trim().split(':');
  const c = make({ resources: { io: { readBps: [{ device, rate: '1m' }], writeIops: [{ device, rate: 100 }] } } });
  const p = c.spawn(['sleep', '60']);
  await p.started;
  if (onV1('blkio')) {
    expect(readHostCgroupFile(parent, c.id, 'blkio', 'blkio.throttle.read_bps_device', '')).toBe(`${major}:${minor} 1048576\n`);
    expect(readHostCgroupFile(parent, c.id, 'blkio', 'blkio.throttle.write_iops_device', '')).toBe(`${major}:${minor} 100\n`);
  } else {
    const ioMax = readHostCgroupFile(parent, c.id, 'io', '', 'io.max');
    expect(ioMax).toMatch(new RegExp(`^${major}:${minor} rbps=1048576 wbps=max riops=max wiops=100$`, 'm'));
  }
});
