/**
 * exec: another process inside a running container. It must see what the main process
 * sees (hostname, mounts, PID namespace, every other namespace), run with the same
 * capabilities, no_new_privs and user, and report its stdio, exit code and signals.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { Container, ContainerProcess } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { ok, useContainers } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const { make, tempDirs } = useContainers();

const NS_LOOP = 'for n in pid mnt uts ipc net cgroup user time; do echo "$n $(readlink /proc/$P/ns/$n)"; done';

/** Resolves once `text` has appeared on the stream. */
function waitFor(stream: Readable, text: string, timeoutMs = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`)), timeoutMs);
    stream.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

/**
 * A container whose main process (PID 1) writes a file into its /tmp tmpfs, records its
 * namespaces, prints "ready" and sleeps.
 */
async function started(opts: ContainerOptions = {}): Promise<{ c: Container; main: ContainerProcess; mainOut: string }> {
  const c = make({ rootfs, readonly: true, hostname: 'execbox', ...opts });
  const main = c.spawn(
    ['sh', '-c', `echo from-main > /tmp/shared; P=$$; ${NS_LOOP} > /tmp/main-ns; echo ready; exec sleep 60`],
    { stdio: 'pipe' },
  );
  const mainOut = await waitFor(main.stdout!, 'ready\n');
  return { c, main, mainOut };
}

describe('exec sees the container of the main process', () => {
  test('the same hostname', async () => {
    const { c } = await started();
    expect(await c.exec(['hostname']).output()).toMatchObject(ok('execbox\n'));
    expect(await c.exec(['cat', '/etc/hostname']).output()).toMatchObject(ok('execbox\n'));
  });

  test('the same mounts: a file the main process wrote into its tmpfs', async () => {
    const { c } = await started();
    expect(await c.exec(['cat', '/tmp/shared']).output()).toMatchObject(ok('from-main\n'));
  });

  test('the same bind mounts, and writes go both ways', async () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-bind-'));
    tempDirs.push(src);
    fs.writeFileSync(path.join(src, 'host'), 'host\n');
    const { c } = await started({ mounts: [{ type: 'bind', source: src, target: '/work' }] });
    expect(await c.exec(['sh', '-c', 'cat /work/host; echo exec > /work/exec']).output()).toMatchObject(ok('host\n'));
    expect(fs.readFileSync(path.join(src, 'exec'), 'utf8')).toBe('exec\n');
  });

  test('the same mount table', async () => {
    const { c } = await started({ mounts: [{ type: 'tmpfs', target: '/mnt', size: '8m' }] });
    const mine = await c.exec(['cat', '/proc/self/mountinfo']).output();
    const main = await c.exec(['cat', '/proc/1/mountinfo']).output();
    expect(mine.exitCode).toBe(0);
    expect(mine.stdout).toBe(main.stdout);
    expect(mine.stdout).toMatch(/ \/mnt .* - tmpfs .*size=8192k/);
  });

  test('the same PID namespace: PID 1 is the main process, and exec is not PID 1', async () => {
    const { c } = await started();
    const r = await c.exec(['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo $$']).output();
    expect(r.exitCode).toBe(0);
    const [cmd, pid] = r.stdout.split('\n');
    expect(cmd).toBe('sleep 60 ');
    expect(pid).toMatch(/^\d+$/);
    expect(Number(pid)).toBeGreaterThan(1);
  });

  test('exec appears in the container /proc, and the container has no other process', async () => {
    const { c } = await started();
    const r = await c.exec(['sh', '-c', 'echo $$; for d in /proc/[0-9]*; do echo "${d#/proc/}"; done']).output();
    expect(r.exitCode).toBe(0);
    const [self, ...pids] = r.stdout.trim().split('\n');
    expect(pids.map(Number).sort((a, b) => a - b)).toEqual([1, Number(self)].sort((a, b) => a - b));
  });

  test('the host pid of an exec is in the container PID namespace', async () => {
    const { c, main } = await started();
    const e = c.exec(['sleep', '30'], { stdio: 'ignore' });
    await once(e, 'spawn');
    expect(e.pid).not.toBe(main.pid);
    const nspid = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${e.pid}/status`, 'utf8'))![1].split(/\s+/);
    expect(nspid).toHaveLength(2);
    expect(nspid[0]).toBe(String(e.pid));
    expect(Number(nspid[1])).toBeGreaterThan(1);
    expect(fs.readlinkSync(`/proc/${e.pid}/ns/pid`)).toBe(fs.readlinkSync(`/proc/${main.pid}/ns/pid`));
    e.kill('SIGKILL');
    expect(await e.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  test('every namespace of the main process', async () => {
    const { c } = await started({ userns: true, timens: { boottimeOffset: 100 } });
    const mainNs = (await c.exec(['cat', '/tmp/main-ns']).output()).stdout;
    const r = await c.exec(['sh', '-c', `P=self; ${NS_LOOP}`]).output();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(mainNs);
    expect(mainNs.split('\n').filter(Boolean)).toHaveLength(8);
  });

  test('the same capabilities and no_new_privs', async () => {
    const { c } = await started({ capabilities: { add: ['SYS_ADMIN'], drop: ['NET_RAW'] } });
    const status = (await c.exec(['cat', '/proc/self/status']).output()).stdout;
    const main = (await c.exec(['cat', '/proc/1/status']).output()).stdout;
    const pick = (s: string) => s.split('\n').filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):/.test(l));
    expect(pick(status)).toEqual(pick(main));
    expect(pick(status)).toEqual([
      'CapInh:\t0000000000000000',
      'CapPrm:\t00000000a82405fb',
      'CapEff:\t00000000a82405fb',
      'CapBnd:\t00000000a82405fb',
      'CapAmb:\t0000000000000000',
      'NoNewPrivs:\t1',
    ]);
  });

  test('the container user, env and cwd by default', async () => {
    const { c } = await started({ user: { uid: 1000, gid: 1000, groups: [5] }, env: { FOO: 'bar' }, cwd: '/work' });
    const r = await c.exec(['sh', '-c', 'id -u; id -g; grep ^Groups: /proc/self/status; echo $FOO; pwd']).output();
    expect(r).toMatchObject(ok('1000\n1000\nGroups:\t5 \n' + 'bar\n/work\n'));
  });

  test('per-exec env, cwd and user', async () => {
    const { c } = await started({ env: { A: 'container', B: 'container' } });
    const r = await c.exec(['sh', '-c', 'echo "$A $B"; pwd; id -u'], { env: { B: 'exec' }, cwd: '/etc', user: { uid: 1000 } }).output();
    expect(r).toMatchObject(ok('container exec\n/etc\n1000\n'));
  });

  test('only fds 0, 1, 2 are open in an exec', async () => {
    const { c } = await started();
    expect(await c.exec(['ls', '/proc/self/fd']).output()).toMatchObject(ok('0\n1\n2\n3\n'));
  });

  test('the host root default container', async () => {
    const c = make({ hostname: 'hostexec' });
    const main = c.spawn(['sh', '-c', 'echo x > /tmp/from-main; echo ready; exec sleep 60'], { stdio: 'pipe' });
    await waitFor(main.stdout!, 'ready\n');
    expect(await c.exec(['sh', '-c', 'cat /etc/hostname /tmp/from-main; echo $$']).output()).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: expect.stringMatching(/^hostexec\nx\n\d+\n$/),
      stderr: '',
    });
  });
});

describe('exec stdio, exit codes and signals', () => {
  test('stdin, stdout and stderr', async () => {
    const { c } = await started();
    const e = c.exec(['sh', '-c', 'cat; echo err >&2'], { stdio: 'pipe' });
    e.stdin!.end('input line\n');
    expect(await e.output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'input line\n', stderr: 'err\n' });
  });

  test('exit codes', async () => {
    const { c } = await started();
    for (const code of [0, 1, 7, 42, 255]) {
      expect(await c.exec(['sh', '-c', `exit ${code}`]).wait()).toMatchObject({ exitCode: code, signal: null });
    }
  });

  test('kill with SIGTERM, SIGKILL, SIGINT', async () => {
    const { c } = await started();
    for (const sig of ['SIGTERM', 'SIGKILL', 'SIGINT'] as const) {
      const e = c.exec(['sleep', '30'], { stdio: 'ignore' });
      await once(e, 'spawn');
      expect(e.kill(sig)).toBe(true);
      expect(await e.wait()).toMatchObject({ exitCode: null, signal: sig });
    }
  });

  test('a process that kills itself', async () => {
    const { c } = await started();
    expect(await c.exec(['sh', '-c', 'kill -USR1 $$']).wait()).toMatchObject({ exitCode: null, signal: 'SIGUSR1' });
  });

  test('exec does not end the main process, and many execs can run at once', async () => {
    const { c, main } = await started();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.exec(['sh', '-c', `echo ${i}; exit ${i}`]).output()),
    );
    expect(results).toMatchObject(Array.from({ length: 10 }, (_, i) => ({ exitCode: i, signal: null, stdout: `${i}\n`, stderr: '' })));
    expect(main.exitCode).toBeNull();
    expect(fs.existsSync(`/proc/${main.pid}`)).toBe(true);
  });

  test('execs are killed when the main process exits (the PID namespace ends)', async () => {
    const { c, main } = await started();
    const e = c.exec(['sleep', '30'], { stdio: 'ignore' });
    await once(e, 'spawn');
    main.kill('SIGKILL');
    expect(await main.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(await e.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  test('timeout kills an exec with SIGTERM by default', async () => {
    const { c } = await started();
    const t0 = Date.now();
    expect(await c.exec(['sleep', '30'], { timeout: 300 }).wait()).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect(Date.now() - t0).toBeLessThan(10000);
  });

  test('timeout with killSignal', async () => {
    const { c } = await started();
    expect(await c.exec(['sleep', '30'], { timeout: 300, killSignal: 'SIGKILL' }).wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  test('an AbortSignal kills an exec', async () => {
    const { c } = await started();
    const ac = new AbortController();
    const e = c.exec(['sleep', '30'], { signal: ac.signal, stdio: 'ignore' });
    const errors: Error[] = [];
    e.on('error', (err) => errors.push(err));
    // (events.once would reject on the 'error' event, so listen by hand.)
    const exited = new Promise((resolve) => e.once('exit', (code, signal) => resolve([code, signal])));
    await new Promise<void>((resolve) => e.once('spawn', resolve));
    ac.abort();
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(errors.map((err) => err.name)).toEqual(['AbortError']);
  });
});
