/**
 * detectHierarchies over hand-written /proc/self/mountinfo and /proc/self/cgroup texts:
 * v2-only, v1-only and hybrid hosts, mounts that show a subtree (containers), escaped
 * mount points, repeated mounts. The unified controllers are read from a fake tree.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { detectHierarchies, hostHierarchies } from '../../lib/cgroups/hierarchy';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-cg-unit-hier-'));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fake cgroup2 mount with a cgroup.controllers file at `own`. */
function fakeUnified(name: string, own: string, controllers: string): string {
  const mount = path.join(root, name);
  fs.mkdirSync(path.join(mount, own), { recursive: true });
  fs.writeFileSync(path.join(mount, own, 'cgroup.controllers'), controllers);
  return mount;
}

const OTHER_MOUNTS = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw',
];

test('v2-only (systemd host): the unified mount, our cgroup in it, its controllers', () => {
  const mount = fakeUnified('v2', '/user.slice/user-0.slice/session-1.scope', 'cpuset cpu io memory hugetlb pids rdma misc\n');
  const mountinfo = [
    ...OTHER_MOUNTS,
    `30 24 0:26 / ${mount} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`,
  ].join('\n');
  const h = detectHierarchies(mountinfo, '0::/user.slice/user-0.slice/session-1.scope\n');
  expect(h).toEqual({
    unified: {
      mount,
      own: '/user.slice/user-0.slice/session-1.scope',
      controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'],
    },
    v1: [],
  });
});

test('v2-only at the root cgroup (a VM guest)', () => {
  const mount = fakeUnified('v2root', '/', 'cpu memory pids\n');
  const h = detectHierarchies(`${OTHER_MOUNTS.join('\n')}\n31 24 0:26 / ${mount} rw - cgroup2 cgroup2 rw\n`, '0::/\n');
  expect(h.unified).toEqual({ mount, own: '/', controllers: ['cpu', 'memory', 'pids'] });
  expect(h.v1).toEqual([]);
});

const V1_MOUNTS = [
  '25 24 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:3 - tmpfs tmpfs ro,mode=755',
  '32 25 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,xattr,name=systemd',
  '33 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct',
  '34 25 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,memory',
  '35 25 0:31 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,devices',
  '36 25 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,pids',
  '37 25 0:33 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpuset',
  '38 25 0:34 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,freezer',
  '39 25 0:35 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,blkio',
  '40 25 0:36 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_cls,net_prio',
];

const V1_PROC_CGROUP = [
  '10:blkio:/system.slice/ci.service',
  '9:net_cls,net_prio:/',
  '8:freezer:/',
  '7:cpuset:/',
  '6:pids:/system.slice/ci.service',
  '5:devices:/system.slice/ci.service',
  '4:memory:/system.slice/ci.service',
  '3:cpu,cpuacct:/system.slice/ci.service',
  '1:name=systemd:/system.slice/ci.service',
].join('\n');

test('v1-only: one entry per hierarchy ts-container uses, with its controllers and our cgroup', () => {
  const h = detectHierarchies([...OTHER_MOUNTS, ...V1_MOUNTS].join('\n'), `${V1_PROC_CGROUP}\n`);
  expect(h.unified).toBeNull();
  expect(h.v1).toEqual([
    { mount: '/sys/fs/cgroup/cpu,cpuacct', own: '/system.slice/ci.service', controllers: ['cpu', 'cpuacct'] },
    { mount: '/sys/fs/cgroup/memory', own: '/system.slice/ci.service', controllers: ['memory'] },
    { mount: '/sys/fs/cgroup/devices', own: '/system.slice/ci.service', controllers: ['devices'] },
    { mount: '/sys/fs/cgroup/pids', own: '/system.slice/ci.service', controllers: ['pids'] },
    { mount: '/sys/fs/cgroup/cpuset', own: '/', controllers: ['cpuset'] },
    { mount: '/sys/fs/cgroup/freezer', own: '/', controllers: ['freezer'] },
    { mount: '/sys/fs/cgroup/blkio', own: '/system.slice/ci.service', controllers: ['blkio'] },
  ]);
});

test('hybrid (this machine\'s layout): v1 controllers and an empty cgroup2 at /sys/fs/cgroup/unified', () => {
  const unified = fakeUnified('hybrid-unified', '/system.slice/ci.service', '\n');
  const mountinfo = [...OTHER_MOUNTS, ...V1_MOUNTS, `41 25 0:37 / ${unified} rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate`].join('\n');
  const h = detectHierarchies(mountinfo, `${V1_PROC_CGROUP}\n0::/system.slice/ci.service\n`);
  expect(h.unified).toEqual({ mount: unified, own: '/system.slice/ci.service', controllers: [] });
  expect(h.v1.map((x) => x.controllers.join(','))).toEqual(['cpu,cpuacct', 'memory', 'devices', 'pids', 'cpuset', 'freezer', 'blkio']);
});

test('a cgroup2 mount without a 0:: line in /proc/self/cgroup is not used', () => {
  const unified = fakeUnified('no-zero-line', '/', 'memory\n');
  const h = detectHierarchies(`${V1_MOUNTS.join('\n')}\n41 25 0:37 / ${unified} rw - cgroup2 cgroup2 rw\n`, V1_PROC_CGROUP);
  expect(h.unified).toBeNull();
  expect(h.v1).toHaveLength(7);
});

test('separately mounted cpu and cpuacct (as on this host), and a hierarchy mounted twice', () => {
  const mountinfo = [
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '99 31 0:32 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory',
  ].join('\n');
  const h = detectHierarchies(mountinfo, '4:memory:/process_api/c35b\n2:cpuacct:/\n1:cpu:/\n');
  expect(h.v1).toEqual([
    { mount: '/sys/fs/cgroup/cpu', own: '/', controllers: ['cpu'] },
    { mount: '/sys/fs/cgroup/cpuacct', own: '/', controllers: ['cpuacct'] },
    { mount: '/sys/fs/cgroup/memory', own: '/process_api/c35b', controllers: ['memory'] },
  ]);
});

test('inside a container: a mount showing a subtree gives our cgroup relative to it', () => {
  const unified = fakeUnified('subtree', '/job', 'memory pids\n');
  const mountinfo = [
    '40 30 0:30 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory',
    '41 30 0:31 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids',
    `42 30 0:26 /kubepods/pod1 ${unified} rw - cgroup2 cgroup2 rw`,
  ].join('\n');
  const h = detectHierarchies(mountinfo, '6:pids:/elsewhere\n4:memory:/docker/abc/job\n0::/kubepods/pod1/job\n');
  expect(h.unified).toEqual({ mount: unified, own: '/job', controllers: ['memory', 'pids'] });
  expect(h.v1).toEqual([
    { mount: '/sys/fs/cgroup/memory', own: '/job', controllers: ['memory'] },
    // Our cgroup is outside what the mount shows: its root stands for it.
    { mount: '/sys/fs/cgroup/pids', own: '/', controllers: ['pids'] },
  ]);
});

test('mount points with escaped characters are unescaped', () => {
  const unified = fakeUnified('with space', '/', 'pids\n');
  const escaped = unified.replace(/ /g, '\\040');
  const h = detectHierarchies(`50 1 0:40 / ${escaped} rw - cgroup2 cgroup2 rw\n`, '0::/\n');
  expect(h.unified).toEqual({ mount: unified, own: '/', controllers: ['pids'] });
});

test('a missing cgroup.controllers reads as no controllers', () => {
  const h = detectHierarchies(`50 1 0:40 / ${path.join(root, 'nothing-here')} rw - cgroup2 cgroup2 rw\n`, '0::/\n');
  expect(h.unified?.controllers).toEqual([]);
});

test('no cgroup mounts at all', () => {
  expect(detectHierarchies(OTHER_MOUNTS.join('\n'), '0::/\n')).toEqual({ unified: null, v1: [] });
});

test('hostHierarchies reads this machine, and caches', () => {
  const h = hostHierarchies();
  expect(hostHierarchies()).toBe(h);
  // Whatever the layout, at least one hierarchy, and every mount exists.
  const all = [...(h.unified ? [h.unified] : []), ...h.v1];
  expect(all.length).toBeGreaterThan(0);
  for (const x of all) expect(fs.existsSync(path.join(x.mount, x.own))).toBe(true);
});
