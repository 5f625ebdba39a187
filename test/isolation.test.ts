/**
 * Default isolation, checked from inside the container the way a user would check it:
 * namespaces, hostname, /proc, PID 1, network, capabilities, no_new_privs, open fds,
 * masked and read-only paths, /dev, /sys, /tmp, pivot_root, and the host-root default.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import type { ContainerOptions, ProcessOptions, ProcessOutput } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers, ok } from './support/containers';
import { uniqueId } from './support/unique';

const rootfs = ensureBusyboxRootfs();
const { make, run, sh } = useContainers();

interface MountEntry {
  mountId: string;
  majorMinor: string;
  root: string;
  mountPoint: string;
  options: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

function parseMountinfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pre, post] = line.split(' - ');
      const f = pre.split(' ');
      const g = post.split(' ');
      return {
        mountId: f[0],
        majorMinor: f[2],
        root: f[3],
        mountPoint: f[4],
        options: f[5].split(','),
        fstype: g[0],
        source: g[1],
        superOptions: (g[2] ?? '').split(','),
      };
    });
}

/** The last mount at a mount point (the one a path lookup sees). */
function mountAt(entries: MountEntry[], mountPoint: string): MountEntry | undefined {
  return entries.filter((e) => e.mountPoint === mountPoint).pop();
}

async function containerMountinfo(opts: ContainerOptions): Promise<MountEntry[]> {
  const r = await run(opts, ['cat', '/proc/self/mountinfo']);
  expect(r.exitCode).toBe(0);
  return parseMountinfo(r.stdout);
}

function statusFields(text: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*?)\s*$/.exec(line);
    if (m && names.includes(m[1])) out[m[1]] = m[2];
  }
  return out;
}

const CAP_FIELDS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'];
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';
const base: ContainerOptions = { rootfs, readonly: true };

describe('hostname (uts namespace)', () => {
  test('hostname and /etc/hostname show the configured hostname', async () => {
    const r = await sh({ ...base, hostname: 'box' }, 'hostname; cat /etc/hostname');
    expect(r).toMatchObject(ok('box\nbox\n'));
  });

  test('the hostname defaults to the container id', async () => {
    const id = uniqueId('iso-hostname');
    const c = make({ ...base, id });
    expect(c.id).toBe(id);
    const r = await c.spawn(['hostname'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject(ok(`${id}\n`));
  });

  test('a random id is valid and is the hostname', async () => {
    const c = make({ ...base });
    expect(c.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
    const r = await c.spawn(['hostname'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject(ok(`${c.id}\n`));
  });

  test('changing the hostname inside leaves the host hostname and the rootfs file untouched', async () => {
    const hostBefore = os.hostname();
    const r = await sh(
      { ...base, hostname: 'box2', capabilities: { add: ['CAP_SYS_ADMIN'] } },
      'hostname other-name && hostname',
    );
    expect(r).toMatchObject(ok('other-name\n'));
    expect(os.hostname()).toBe(hostBefore);
    expect(fs.readFileSync(path.join(rootfs, 'etc', 'hostname'), 'utf8')).toBe('rootfs\n');
  });

  test('sethostname needs CAP_SYS_ADMIN, which is not a default', async () => {
    const r = await run({ ...base, hostname: 'box3' }, ['hostname', 'other-name']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });
});

describe('namespaces', () => {
  test('pid, mnt, uts, ipc, net and cgroup are new; user and time are the host ones', async () => {
    const r = await sh(
      base,
      'for n in pid mnt uts ipc net cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done',
    );
    expect(r.exitCode).toBe(0);
    const inside: Record<string, string> = {};
    for (const line of r.stdout.trim().split('\n')) {
      const [n, link] = line.split(' ');
      inside[n] = link;
    }
    const host = (n: string) => fs.readlinkSync(`/proc/self/ns/${n}`);
    for (const n of ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup']) {
      expect(inside[n]).toMatch(new RegExp(`^${n}:\\[\\d+\\]$`));
      expect([n, inside[n]]).not.toEqual([n, host(n)]);
    }
    expect(inside.user).toBe(host('user'));
    expect(inside.time).toBe(host('time'));
  });

  test('the cgroup namespace is rooted at the container cgroup', async () => {
    const r = await run(base, ['cat', '/proc/self/cgroup']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\d+:[^:]*:\/$/);
  });
});

describe('PID namespace', () => {
  test('PID 1 is the program itself', async () => {
    const r = await run(base, ['cat', '/proc/1/cmdline']);
    expect(r).toMatchObject(ok('cat\0/proc/1/cmdline\0'));
  });

  test('the shell is PID 1 ($$)', async () => {
    expect(await sh(base, 'echo $$')).toMatchObject(ok('1\n'));
  });

  test('/proc lists only the container processes', async () => {
    // A pure-builtin loop: the shell (PID 1) is the only process in the container.
    const r = await sh(base, 'for d in /proc/[0-9]*; do echo "${d#/proc/}"; done');
    expect(r).toMatchObject(ok('1\n'));
  });

  test('ps shows only the container processes', async () => {
    const r = await run(base, ['ps', '-o', 'pid,comm']);
    expect(r.exitCode).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows).toEqual([['1', 'ps']]);
  });

  test('p.pid is the host pid of the container PID 1', async () => {
    const c = make(base);
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    expect(typeof p.pid).toBe('number');
    const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
    expect(statusFields(status, ['NSpid']).NSpid.split(/\s+/)).toEqual([String(p.pid), '1']);
    p.kill('SIGKILL');
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });
});

describe('network none', () => {
  test('/proc/net/dev lists only lo', async () => {
    const r = await run(base, ['cat', '/proc/net/dev']);
    expect(r.exitCode).toBe(0);
    const ifaces = r.stdout
      .split('\n')
      .slice(2)
      .filter((l) => l.trim())
      .map((l) => l.split(':')[0].trim());
    expect(ifaces).toEqual(['lo']);
  });

  test('lo is up and is the only link', async () => {
    const r = await run(base, ['ip', '-o', 'link', 'show']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^1: lo: <[^>]*\bUP\b[^>]*>/);
  });

  test('loopback traffic works', async () => {
    const r = await run(base, ['ping', '-c', '1', '-W', '2', '127.0.0.1']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/1 packets received/);
  });

  test('sysfs shows only the container network devices', async () => {
    const r = await run(base, ['ls', '/sys/class/net']);
    expect(r).toMatchObject(ok('lo\n'));
  });
});

describe('capabilities and no_new_privs', () => {
  test('root gets the Docker default set in effective, permitted and bounding; none inheritable or ambient', async () => {
    const r = await run(base, ['cat', '/proc/self/status']);
    expect(r.exitCode).toBe(0);
    expect(statusFields(r.stdout, CAP_FIELDS)).toEqual({
      CapInh: '0000000000000000',
      CapPrm: DOCKER_DEFAULT_CAPS,
      CapEff: DOCKER_DEFAULT_CAPS,
      CapBnd: DOCKER_DEFAULT_CAPS,
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
    });
  });

  test('a non-root user has no effective, permitted, inheritable or ambient capability', async () => {
    const r = await run({ ...base, user: { uid: 1000, gid: 1000 } }, ['cat', '/proc/self/status']);
    expect(r.exitCode).toBe(0);
    const f = statusFields(r.stdout, CAP_FIELDS);
    expect(f).toEqual({
      CapInh: '0000000000000000',
      CapPrm: '0000000000000000',
      CapEff: '0000000000000000',
      CapBnd: f.CapBnd,
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
    });
    // The bounding set never holds more than the Docker defaults.
    expect(BigInt('0x' + f.CapBnd) & ~BigInt('0x' + DOCKER_DEFAULT_CAPS)).toBe(0n);
  });

  test('a capability outside the defaults is not usable (mount needs CAP_SYS_ADMIN)', async () => {
    const r = await sh(base, 'mount -t tmpfs none /mnt');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted|permission denied/i);
  });
});

describe('file descriptors', () => {
  test('only 0, 1, 2 are open (plus the fd of the listing)', async () => {
    const r = await run(base, ['ls', '/proc/self/fd']);
    expect(r).toMatchObject(ok('0\n1\n2\n3\n'));
  });

  test('only 0, 1, 2 are open when stdio is ignored', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'iso-fd-')), 'out');
    const fd = fs.openSync(out, 'w');
    try {
      const p = make(base).spawn(['ls', '/proc/self/fd'], { stdio: ['ignore', fd, 'ignore'] });
      expect(await p.wait()).toMatchObject({ exitCode: 0, signal: null });
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(out, 'utf8')).toBe('0\n1\n2\n3\n');
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});

describe('masked and read-only paths', () => {
  const MASKED = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
    '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
    '/sys/devices/virtual/powercap'].filter((p) => fs.existsSync(p));
  const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']
    .filter((p) => fs.existsSync(p));

  test('this host has paths to mask', () => {
    // The masked list below must not be empty, or the masking tests would prove nothing.
    expect(MASKED).toEqual(expect.arrayContaining(['/proc/keys', '/proc/timer_list', '/sys/firmware']));
    expect(READONLY).toEqual(expect.arrayContaining(['/proc/sys', '/proc/irq']));
  });

  test('masked paths have a mount over them inside the container', async () => {
    const mounts = await containerMountinfo(base);
    for (const p of MASKED) expect([p, mountAt(mounts, p) !== undefined]).toEqual([p, true]);
  });

  test.each(['/proc/keys', '/proc/timer_list'].filter((p) => fs.existsSync(p)))(
    'masked file %s reads as empty (non-empty on the host)',
    async (p) => {
      expect(fs.readFileSync(p).length).toBeGreaterThan(0);
      const r = await run(base, ['cat', p]);
      expect(r.stdout).toBe('');
    },
  );

  test.each(['/sys/firmware', '/proc/acpi'].filter((p) => fs.existsSync(p)))(
    'masked directory %s lists nothing and cannot be written',
    async (p) => {
      const r = await sh(base, `ls -A ${p}; touch ${p}/x`);
      expect(r.stdout).toBe('');
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/Read-only file system|Permission denied|No such file/);
    },
  );

  test('read-only /proc paths are mounted read-only', async () => {
    const mounts = await containerMountinfo(base);
    for (const p of READONLY) {
      const m = mountAt(mounts, p);
      expect([p, m?.options.includes('ro')]).toEqual([p, true]);
    }
  });

  test.each(READONLY)('changing a file under %s fails with EROFS', async (p) => {
    // procfs refuses to create files anyway (ENOENT), so touch an existing one.
    const r = await sh(base, `f=$(find ${p} -type f 2>/dev/null | head -n 1); echo "$f"; touch "$f"`);
    const file = r.stdout.trim();
    expect(file.startsWith(p)).toBe(true);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toMatchObject({ exitCode: 1, stderr: `touch: ${file}: Read-only file system\n` });
  });

  test('writing a sysctl fails with EROFS', async () => {
    const r = await sh(base, 'echo 1 > /proc/sys/net/ipv4/ip_forward');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system/);
  });
});

describe('filesystems', () => {
  test('/proc is a fresh proc, /sys a read-only sysfs, /dev a tmpfs with pts, shm and mqueue', async () => {
    const mounts = await containerMountinfo(base);
    const kind = (p: string) => {
      const m = mountAt(mounts, p);
      return m && { fstype: m.fstype, ro: m.options.includes('ro') };
    };
    expect(kind('/proc')).toEqual({ fstype: 'proc', ro: false });
    expect(kind('/sys')).toEqual({ fstype: 'sysfs', ro: true });
    expect(kind('/dev')?.fstype).toBe('tmpfs');
    expect(kind('/dev/pts')?.fstype).toBe('devpts');
    expect(kind('/dev/shm')?.fstype).toBe('tmpfs');
    expect(kind('/dev/mqueue')?.fstype).toBe('mqueue');
  });

  test('/dev/pts is a new devpts instance', async () => {
    const mounts = await containerMountinfo(base);
    const inside = mountAt(mounts, '/dev/pts');
    const host = mountAt(parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), '/dev/pts');
    expect(inside).toBeDefined();
    expect(host).toBeDefined();
    expect(inside!.majorMinor).not.toBe(host!.majorMinor);
    const r = await run(base, ['ls', '/dev/pts']);
    expect(r).toMatchObject(ok('ptmx\n'));
  });

  test('/dev holds the standard devices and nothing of the host', async () => {
    const r = await run(base, ['ls', '-A', '/dev']);
    expect(r.exitCode).toBe(0);
    const names = r.stdout.trim().split('\n');
    const required = ['full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'tty', 'urandom', 'zero'];
    const allowed = [...required, 'fd', 'stdin', 'stdout', 'stderr', 'core', 'console'];
    expect(names).toEqual(expect.arrayContaining(required));
    expect(names.filter((n) => !allowed.includes(n))).toEqual([]);
  });

  test('the devices work', async () => {
    const r = await sh(
      base,
      [
        'for d in null zero full random urandom tty ptmx; do test -c /dev/$d || echo "not a char device: $d"; done',
        'echo discard > /dev/null || echo "null failed"',
        'head -c 16 /dev/zero | wc -c',
        'head -c 16 /dev/urandom | wc -c',
        'head -c 16 /dev/random | wc -c',
        'echo x 2>/dev/null > /dev/full && echo "full accepted a write"',
        'true',
      ].join('; '),
    );
    expect(r.stdout.split('\n').map((l) => l.trim())).toEqual(['16', '16', '16', '']);
    expect(r.exitCode).toBe(0);
  });

  test('/sys cannot be written', async () => {
    const r = await run(base, ['touch', '/sys/ts-test-file']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('touch: /sys/ts-test-file: Read-only file system\n');
  });

  test('/tmp is a writable tmpfs when the rootfs is read-only', async () => {
    const mounts = await containerMountinfo(base);
    expect(mountAt(mounts, '/tmp')?.fstype).toBe('tmpfs');
    expect(await sh(base, 'echo hi > /tmp/f && cat /tmp/f')).toMatchObject(ok('hi\n'));
  });

  test('the rootfs is the root through pivot_root and the old root is gone', async () => {
    const mounts = await containerMountinfo(base);
    const root = mountAt(mounts, '/');
    expect(root).toBeDefined();
    // The root mount is the rootfs directory (a bind mount of it), not the host's /.
    const real = fs.realpathSync(rootfs);
    const hostMounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    const under = hostMounts
      .filter((m) => real === m.mountPoint || real.startsWith(m.mountPoint === '/' ? '/' : m.mountPoint + '/'))
      .sort((a, b) => a.mountPoint.length - b.mountPoint.length)
      .pop()!;
    expect(root!.root).toBe(path.join(under.root, path.relative(under.mountPoint, real)));
    const allowed = (p: string) =>
      p === '/' || p === '/proc' || p.startsWith('/proc/') || p === '/sys' || p.startsWith('/sys/') ||
      p === '/dev' || p.startsWith('/dev/') || p === '/tmp' ||
      ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(p);
    expect(mounts.map((m) => m.mountPoint).filter((p) => !allowed(p))).toEqual([]);
  });

  test('the container root is the rootfs, with nothing of the host', async () => {
    const r = await run(base, ['ls', '/']);
    const expected = fs.readdirSync(rootfs).filter((n) => !n.startsWith('.')).sort();
    expect(r).toMatchObject(ok(expected.map((n) => `${n}\n`).join('')));
  });

  test('a host file outside the mounts is not visible', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iso-secret-'));
    const secret = path.join(dir, 'secret');
    fs.writeFileSync(secret, 'top secret\n');
    try {
      const r = await run(base, ['cat', secret]);
      expect(r).toMatchObject({ exitCode: 1, signal: null, stdout: '', stderr: `cat: can't open '${secret}': No such file or directory\n` });
      const r2 = await run(base, ['cat', path.join(rootfs, 'etc', 'hostname')]);
      expect(r2.exitCode).toBe(1);
      expect(r2.stdout).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('host root default (no rootfs)', () => {
  test('the program is PID 1 in its own namespaces', async () => {
    const script = 'echo $$; cat /etc/hostname; tr "\\0" " " < /proc/1/cmdline; echo';
    const r = await sh({ hostname: 'hostroot' }, script);
    expect(r).toMatchObject(ok(`1\nhostroot\nsh -c ${script} \n`));
  });

  test('the host root is read-only', async () => {
    const r = await run({}, ['touch', '/etc/ts-container-test-file']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(fs.existsSync('/etc/ts-container-test-file')).toBe(false);
  });

  test('/tmp is a fresh tmpfs: host /tmp files are not visible, writes stay inside', async () => {
    const hostFile = path.join('/tmp', `iso-hostroot-${process.pid}`);
    fs.writeFileSync(hostFile, 'host\n');
    try {
      const r = await sh({}, `cat ${hostFile} 2>/dev/null; echo inside > /tmp/iso-inside-${process.pid}; cat /tmp/iso-inside-${process.pid}`);
      expect(r).toMatchObject(ok('inside\n'));
      expect(fs.existsSync(`/tmp/iso-inside-${process.pid}`)).toBe(false);
      const mounts = await containerMountinfo({});
      expect(mountAt(mounts, '/tmp')?.fstype).toBe('tmpfs');
    } finally {
      fs.rmSync(hostFile, { force: true });
    }
  });

  test('host tools run, with the default caps, network and fds', async () => {
    const r = await sh(
      {},
      'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status | tr -s "\\t" " "; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; ls /proc/self/fd',
    );
    expect(r).toMatchObject(ok(`CapEff: ${DOCKER_DEFAULT_CAPS}\nCapBnd: ${DOCKER_DEFAULT_CAPS}\nNoNewPrivs: 1\nlo\n0\n1\n2\n3\n`));
  });

  test('the default environment', async () => {
    const c = make({ hostname: 'envhost' });
    const r = await c.spawn(['env'], { stdio: 'pipe' }).output();
    expect(r.exitCode).toBe(0);
    const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.PATH).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(env.HOSTNAME).toBe('envhost');
    expect(env.HOME).toBeTruthy();
    // Nothing of the test runner's environment leaks in.
    expect(env.JEST_WORKER_ID).toBeUndefined();
  });
});
