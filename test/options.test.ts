/**
 * Container and process options, checked from inside: user and groups, env, cwd, rlimits,
 * user namespace, time namespace, init, capabilities add/drop, host network.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import type { Capability, ContainerOptions, ProcessOptions, ProcessOutput } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers, ok } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const { make, run, tempDirs } = useContainers();

function sh(opts: ContainerOptions, script: string, popts: ProcessOptions = {}): Promise<ProcessOutput> {
  return run(opts, ['sh', '-c', script], popts);
}

const base: ContainerOptions = { rootfs, readonly: true };
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DOCKER_DEFAULT_CAPS = 0xa80425fbn;

function statusField(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*(.*?)[ \\t]*$`, 'm').exec(text);
  return m?.[1];
}

function capsOf(status: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) out[f] = BigInt('0x' + statusField(status, f));
  return out;
}

function parseEnv(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n').filter(Boolean)) {
    const i = line.indexOf('=');
    env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

describe('user', () => {
  test('uid, gid and supplementary groups', async () => {
    const r = await sh(
      { ...base, user: { uid: 1000, gid: 1000, groups: [10, 20] } },
      'id -u; id -g; grep "^Groups:" /proc/self/status',
    );
    expect(r.exitCode).toBe(0);
    const [uid, gid, groups] = r.stdout.split('\n');
    expect(uid).toBe('1000');
    expect(gid).toBe('1000');
    expect(groups.replace(/^Groups:/, '').trim().split(/\s+/)).toEqual(['10', '20']);
  });

  test('id reports the user and groups', async () => {
    const r = await run({ ...base, user: { uid: 1000, gid: 1000, groups: [10, 20] } }, ['id']);
    expect(r).toMatchObject(ok('uid=1000(user) gid=1000(user) groups=10,20\n'));
  });

  test('gid defaults to the uid and there are no supplementary groups', async () => {
    const r = await sh({ ...base, user: { uid: 1000 } }, 'id -u; id -g; grep "^Groups:" /proc/self/status');
    expect(r.exitCode).toBe(0);
    const [uid, gid, groups] = r.stdout.split('\n');
    expect([uid, gid, groups.replace(/^Groups:/, '').trim()]).toEqual(['1000', '1000', '']);
  });

  test('root gets no supplementary groups from the host', async () => {
    const r = await sh(base, 'id -u; id -g; grep "^Groups:" /proc/self/status');
    expect(r.exitCode).toBe(0);
    const [uid, gid, groups] = r.stdout.split('\n');
    expect([uid, gid, groups.replace(/^Groups:/, '').trim()]).toEqual(['0', '0', '']);
  });

  test('files are created with the user ids, and root-owned directories are protected', async () => {
    const r = await sh(
      { ...base, user: { uid: 1000, gid: 1000 }, mounts: [{ type: 'tmpfs', target: '/mnt', mode: 0o755 }] },
      'touch /tmp/f && stat -c %u:%g /tmp/f; cat /etc/passwd > /dev/null && echo readable; touch /mnt/no',
    );
    expect(r).toMatchObject({ exitCode: 1, signal: null, stdout: '1000:1000\nreadable\n', stderr: 'touch: /mnt/no: Permission denied\n' });
  });

  test('a per-process user overrides the container user, with its own HOME', async () => {
    const c = make({ ...base, user: { uid: 1000, gid: 1000 } });
    const r = await c.spawn(['sh', '-c', 'id -u; id -g; echo $HOME'], { stdio: 'pipe', user: { uid: 65534, gid: 65534 } }).output();
    expect(r).toMatchObject(ok('65534\n65534\n/\n'));
  });
});

describe('env', () => {
  test('the exact default environment: PATH, HOSTNAME, HOME and the user env', async () => {
    const r = await run({ ...base, hostname: 'envbox', env: { FOO: 'bar', EMPTY: '' } }, ['env']);
    expect(r.exitCode).toBe(0);
    expect(parseEnv(r.stdout)).toEqual({ PATH: DEFAULT_PATH, HOSTNAME: 'envbox', HOME: '/root', FOO: 'bar', EMPTY: '' });
  });

  test('a non-root user gets HOME=/', async () => {
    const r = await run({ ...base, user: { uid: 1000 } }, ['env']);
    expect(parseEnv(r.stdout).HOME).toBe('/');
  });

  test('user env overrides the defaults', async () => {
    const r = await run({ ...base, env: { PATH: '/bin', HOME: '/home', HOSTNAME: 'x' } }, ['env']);
    expect(parseEnv(r.stdout)).toEqual({ PATH: '/bin', HOSTNAME: 'x', HOME: '/home' });
  });

  test('per-process env merges over the container env', async () => {
    const c = make({ ...base, env: { A: 'container', B: 'container' } });
    const r = await c.spawn(['sh', '-c', 'echo "$A $B $C"'], { stdio: 'pipe', env: { B: 'process', C: 'process' } }).output();
    expect(r).toMatchObject(ok('container process process\n'));
  });

  test('process.env passes as env: its variables go in, undefined values are left out', async () => {
    // process.env's type allows undefined values; a variable set to undefined is skipped, as child_process does.
    const hostEnv: NodeJS.ProcessEnv = { ...process.env, TSC_FROM_HOST: 'host', TSC_UNSET: undefined };
    const c = make({ ...base, env: hostEnv });
    const r = await c.spawn(['env'], { env: { TSC_PER_PROCESS: 'p', TSC_UNSET_TOO: undefined } }).output();
    expect(r.exitCode).toBe(0);
    const env = parseEnv(r.stdout);
    expect(env.TSC_FROM_HOST).toBe('host');
    expect(env.TSC_PER_PROCESS).toBe('p');
    expect(env.PATH).toBe(process.env.PATH);
    expect(Object.keys(env)).not.toContain('TSC_UNSET');
    expect(Object.keys(env)).not.toContain('TSC_UNSET_TOO');
    // A value that is neither a string nor undefined is still refused, naming the variable.
    expect(() => new Container({ ...base, env: { N: 1 as unknown as string } })).toThrow(/env\.N: expected a string/);
  });

  test('values with spaces, quotes, newlines and unicode pass through unchanged', async () => {
    const value = 'a b "c" \'d\'\n$e ü';
    const r = await run({ ...base, env: { V: value } }, ['sh', '-c', 'printf %s "$V"']);
    expect(r).toMatchObject(ok(value));
  });

  test('nothing of the host environment leaks in', async () => {
    process.env.TS_CONTAINER_TEST_LEAK = 'leak';
    try {
      const r = await run(base, ['env']);
      const env = parseEnv(r.stdout);
      expect(env.TS_CONTAINER_TEST_LEAK).toBeUndefined();
      expect(Object.keys(env).sort()).toEqual(['HOME', 'HOSTNAME', 'PATH']);
    } finally {
      delete process.env.TS_CONTAINER_TEST_LEAK;
    }
  });
});

describe('cwd', () => {
  test('defaults to /', async () => {
    expect(await run(base, ['pwd'])).toMatchObject(ok('/\n'));
  });

  test('the container cwd', async () => {
    expect(await run({ ...base, cwd: '/work' }, ['pwd'])).toMatchObject(ok('/work\n'));
  });

  test('a per-process cwd overrides it', async () => {
    expect(await run({ ...base, cwd: '/work' }, ['pwd'], { cwd: '/etc' })).toMatchObject(ok('/etc\n'));
  });

  test('a cwd inside a bind mount sees the mounted files', async () => {
    const src = tempDir('opt-cwd-');
    fs.writeFileSync(path.join(src, 'here'), '');
    const r = await sh({ ...base, cwd: '/work', mounts: [{ type: 'bind', source: src, target: '/work' }] }, 'pwd; ls');
    expect(r).toMatchObject(ok('/work\nhere\n'));
  });
});

describe('rlimits', () => {
  const limitsLine = (limits: string, name: string) => {
    const line = limits.split('\n').find((l) => l.startsWith(name))!;
    return line.slice(name.length).trim().split(/\s+/).slice(0, 2);
  };

  test('nofile { soft, hard } sets both limits', async () => {
    const r = await sh({ ...base, rlimits: { nofile: { soft: 512, hard: 1024 } } }, 'ulimit -n; ulimit -Hn; cat /proc/self/limits');
    expect(r.exitCode).toBe(0);
    const [soft, hard, ...limits] = r.stdout.split('\n');
    expect([soft, hard]).toEqual(['512', '1024']);
    expect(limitsLine(limits.join('\n'), 'Max open files')).toEqual(['512', '1024']);
  });

  test('a number sets soft and hard', async () => {
    const r = await sh({ ...base, rlimits: { nofile: 256 } }, 'ulimit -n; ulimit -Hn');
    expect(r).toMatchObject(ok('256\n256\n'));
  });

  test('several limits at once', async () => {
    const r = await run({ ...base, rlimits: { core: 0, nofile: 100, stack: { soft: 4 * 1024 * 1024, hard: 8 * 1024 * 1024 } } }, [
      'cat',
      '/proc/self/limits',
    ]);
    expect(r.exitCode).toBe(0);
    expect(limitsLine(r.stdout, 'Max core file size')).toEqual(['0', '0']);
    expect(limitsLine(r.stdout, 'Max open files')).toEqual(['100', '100']);
    expect(limitsLine(r.stdout, 'Max stack size')).toEqual([String(4 * 1024 * 1024), String(8 * 1024 * 1024)]);
  });

  test('the nofile limit is enforced', async () => {
    // ls needs a 4th fd for the directory it lists.
    expect(await run({ ...base, rlimits: { nofile: 4 } }, ['ls', '/proc/self/fd'])).toMatchObject(ok('0\n1\n2\n3\n'));
    const r = await run({ ...base, rlimits: { nofile: 3 } }, ['ls', '/proc/self/fd']);
    expect(r).toMatchObject({ exitCode: 1, signal: null, stdout: '', stderr: "ls: can't open '/proc/self/fd': Too many open files\n" });
  });
});

describe('user namespace', () => {
  /** The host uid that container root is mapped to, read on the host. */
  const hostRootOf = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/)[1]);

  test("userns: true maps container root to a block of 65536 ids of ts-container's /etc/subuid range", async () => {
    const r = await sh({ ...base, userns: true }, 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const [, start, count] = fs.readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('ts-container:'))!.split(':').map(Number);
    const block = Number(lines[0][1]);
    expect(block).toBeGreaterThanOrEqual(start);
    expect(block + 65536).toBeLessThanOrEqual(start + count);
    expect((block - start) % 65536).toBe(0);
    expect(lines).toEqual([['0', String(block), '65536'], ['0', lines[1][1], '65536'], ['0'], ['0']]);
  });

  test('explicit maps', async () => {
    const map = [{ containerId: 0, hostId: 200000, size: 2000 }];
    const r = await run({ ...base, userns: { uidMap: map, gidMap: [{ containerId: 0, hostId: 300000, size: 1000 }] } }, [
      'sh',
      '-c',
      'cat /proc/self/uid_map /proc/self/gid_map',
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['0', '200000', '2000'],
      ['0', '300000', '1000'],
    ]);
  });

  test('container root is an unprivileged host user, with the default caps inside the namespace', async () => {
    const c = make({ ...base, userns: true });
    const p = c.spawn(['sh', '-c', 'cat /proc/self/status; readlink /proc/self/ns/user; sleep 30'], { stdio: 'pipe' });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    await once(p, 'spawn');
    const deadline = Date.now() + 10000;
    while (!/user:\[\d+\]/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(out).toMatch(/user:\[\d+\]/);
    const hostStatus = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
    const hostRoot = String(hostRootOf(p.pid!));
    expect(Number(hostRoot)).toBeGreaterThan(165535);
    expect(statusField(hostStatus, 'Uid')!.split(/\s+/)).toEqual([hostRoot, hostRoot, hostRoot, hostRoot]);
    expect(statusField(hostStatus, 'Gid')!.split(/\s+/)).toEqual([hostRoot, hostRoot, hostRoot, hostRoot]);
    expect(capsOf(out).CapEff).toBe(DOCKER_DEFAULT_CAPS);
    expect(/user:\[\d+\]/.exec(out)![0]).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
    p.kill('SIGKILL');
    await p.wait();
  });

  test('a container user inside the namespace maps to the offset host id', async () => {
    const c = make({ ...base, userns: true, user: { uid: 1000, gid: 1000 } });
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    // Give the program a moment to be exec'd after the id switch.
    const deadline = Date.now() + 5000;
    const expected = String(hostRootOf(p.pid!) + 1000);
    let uid = '';
    while (Date.now() < deadline) {
      uid = statusField(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'), 'Uid')!;
      if (uid.startsWith(expected)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(uid.split(/\s+/)).toEqual([expected, expected, expected, expected]);
    p.kill('SIGKILL');
    await p.wait();
  });
});

describe('time namespace', () => {
  test('offsets apply to CLOCK_MONOTONIC and CLOCK_BOOTTIME', async () => {
    const hostUptime = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const before = hostUptime();
    const r = await sh({ ...base, timens: { monotonicOffset: 86400, boottimeOffset: 3600 } }, 'cat /proc/self/timens_offsets; cat /proc/uptime');
    const after = hostUptime();
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 2).map((l) => l.trim().split(/\s+/))).toEqual([
      ['monotonic', '86400', '0'],
      ['boottime', '3600', '0'],
    ]);
    const inside = Number(lines[2].split(' ')[0]);
    expect(inside).toBeGreaterThanOrEqual(before + 3600 - 1);
    expect(inside).toBeLessThanOrEqual(after + 3600 + 1);
  });

  test('timens: true gives a new time namespace with zero offsets', async () => {
    const r = await sh({ ...base, timens: true }, 'readlink /proc/self/ns/time; cat /proc/self/timens_offsets');
    expect(r.exitCode).toBe(0);
    const [link, ...offsets] = r.stdout.trim().split('\n');
    expect(link).toMatch(/^time:\[\d+\]$/);
    expect(link).not.toBe(fs.readlinkSync('/proc/self/ns/time'));
    expect(offsets.map((l) => l.trim().split(/\s+/))).toEqual([
      ['monotonic', '0', '0'],
      ['boottime', '0', '0'],
    ]);
  });
});

describe('init', () => {
  test('PID 1 is the init, the program is not PID 1', async () => {
    const r = await sh({ ...base, init: true }, 'echo $$; tr "\\0" " " < /proc/1/cmdline; echo');
    expect(r.exitCode).toBe(0);
    const [pid, initCmd] = r.stdout.split('\n');
    expect(pid).toMatch(/^\d+$/);
    expect(pid).not.toBe('1');
    expect(initCmd.startsWith('sh -c')).toBe(false);
  });

  test('the program behind init still has only fds 0, 1, 2, the default caps and no_new_privs', async () => {
    const r = await sh({ ...base, init: true }, 'ls /proc/self/fd; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status');
    expect(r).toMatchObject(ok('0\n1\n2\n3\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n'));
  });

  test('the init itself holds no capability beyond the defaults and runs with no_new_privs', async () => {
    const r = await run({ ...base, init: true }, ['cat', '/proc/1/status']);
    expect(r.exitCode).toBe(0);
    expect(statusField(r.stdout, 'NoNewPrivs')).toBe('1');
    expect(BigInt('0x' + statusField(r.stdout, 'CapBnd')) & ~DOCKER_DEFAULT_CAPS).toBe(0n);
  });

  test('the exit code of the program is forwarded', async () => {
    const c = make({ ...base, init: true });
    const p = c.spawn(['sh', '-c', 'exit 5'], { stdio: 'pipe' });
    expect(await p.wait()).toMatchObject({ exitCode: 5, signal: null });
    expect(await c.wait()).toMatchObject({ exitCode: 5, signal: null });
  });

  test('orphans are reaped', async () => {
    const r = await sh(
      { ...base, init: true },
      '( sleep 0.1 & ); sleep 1; cat /proc/[0-9]*/stat',
    );
    expect(r.exitCode).toBe(0);
    const states = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.slice(l.lastIndexOf(')') + 2).split(' ')[0]);
    expect(states.length).toBeGreaterThanOrEqual(2);
    expect(states.filter((s) => s === 'Z')).toEqual([]);
  });

  test('signals are forwarded to the program', async () => {
    const c = make({ ...base, init: true });
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    c.kill('SIGTERM');
    const st = await p.wait();
    expect(Date.now() - t0).toBeLessThan(5000);
    // The program died of SIGTERM: reported as the signal, or as 128+15 by the init.
    expect([{ exitCode: null, signal: 'SIGTERM' }, { exitCode: 143, signal: null }]).toContainEqual({ exitCode: st.exitCode, signal: st.signal });
  });
});

describe('capabilities', () => {
  const effective = async (capabilities: ContainerOptions['capabilities'], user?: ContainerOptions['user']) => {
    const r = await run({ ...base, capabilities, user }, ['cat', '/proc/self/status']);
    expect(r.exitCode).toBe(0);
    return capsOf(r.stdout);
  };
  const CAP_CHOWN = 1n << 0n;
  const CAP_NET_RAW = 1n << 13n;
  const CAP_SYS_ADMIN = 1n << 21n;

  test('add', async () => {
    const caps = await effective({ add: ['SYS_ADMIN'] });
    expect(caps.CapEff).toBe(DOCKER_DEFAULT_CAPS | CAP_SYS_ADMIN);
    expect(caps.CapPrm).toBe(DOCKER_DEFAULT_CAPS | CAP_SYS_ADMIN);
    expect(caps.CapBnd).toBe(DOCKER_DEFAULT_CAPS | CAP_SYS_ADMIN);
    expect(caps.CapInh).toBe(0n);
    expect(caps.CapAmb).toBe(0n);
  });

  test('names are accepted with or without CAP_, in any case', async () => {
    // The types take upper and lower case; the runtime any case.
    expect((await effective({ add: ['cap_sys_admin'] })).CapEff).toBe(DOCKER_DEFAULT_CAPS | CAP_SYS_ADMIN);
    expect((await effective({ drop: ['Net_Raw' as string as Capability] })).CapEff).toBe(DOCKER_DEFAULT_CAPS & ~CAP_NET_RAW);
  });

  test('drop', async () => {
    const caps = await effective({ drop: ['CAP_NET_RAW', 'CHOWN'] });
    expect(caps.CapEff).toBe(DOCKER_DEFAULT_CAPS & ~CAP_NET_RAW & ~CAP_CHOWN);
    expect(caps.CapBnd).toBe(DOCKER_DEFAULT_CAPS & ~CAP_NET_RAW & ~CAP_CHOWN);
  });

  test('drop ALL, add one back', async () => {
    expect(await effective({ drop: ['ALL'] })).toEqual({ CapInh: 0n, CapPrm: 0n, CapEff: 0n, CapBnd: 0n, CapAmb: 0n });
    expect(await effective({ drop: ['ALL'], add: ['CHOWN'] })).toEqual({
      CapInh: 0n,
      CapPrm: CAP_CHOWN,
      CapEff: CAP_CHOWN,
      CapBnd: CAP_CHOWN,
      CapAmb: 0n,
    });
  });

  test('an added capability works: mount with CAP_SYS_ADMIN', async () => {
    const r = await sh({ ...base, capabilities: { add: ['SYS_ADMIN'] } }, 'mount -t tmpfs none /mnt && grep -c " /mnt " /proc/self/mountinfo');
    expect(r).toMatchObject(ok('1\n'));
  });

  test('a dropped capability is gone: chown without CAP_CHOWN', async () => {
    const script = 'touch /tmp/f && chown 1000 /tmp/f && stat -c %u /tmp/f';
    expect(await sh(base, script)).toMatchObject(ok('1000\n'));
    const r = await sh({ ...base, capabilities: { drop: ['CHOWN'] } }, script);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  test('a non-root user gets no capability even with add', async () => {
    const caps = await effective({ add: ['SYS_ADMIN'] }, { uid: 1000 });
    expect(caps.CapEff).toBe(0n);
    expect(caps.CapPrm).toBe(0n);
    expect(caps.CapAmb).toBe(0n);
  });
});

describe('network host', () => {
  test('the host network namespace and interfaces', async () => {
    const r = await sh({ ...base, network: 'host' }, 'readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1');
    expect(r.exitCode).toBe(0);
    const [link, ...ifaces] = r.stdout.trim().split('\n');
    expect(link).toBe(fs.readlinkSync('/proc/self/ns/net'));
    const hostIfaces = fs
      .readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .filter((l) => l.trim())
      .map((l) => l.split(':')[0].trim());
    expect(ifaces.map((i) => i.trim()).sort()).toEqual(hostIfaces.sort());
  });

  test('the other namespaces stay private', async () => {
    const r = await sh({ ...base, network: 'host', hostname: 'nethost' }, 'hostname; echo $$');
    expect(r).toMatchObject(ok('nethost\n1\n'));
  });
});
