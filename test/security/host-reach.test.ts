/**
 * Escape class: reaching a host abstract unix socket (network namespace), the
 * host's pids (kill, ptrace), and TIOCSTI into the caller's terminal (a new
 * session). Also the syscalls that Docker's default seccomp profile refuses to
 * a container's root (unshare of namespaces, keyctl, mount).
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { ContainerOptions } from '../../lib';
import { cleanup, fixture, fixturesMount, make, results, sharedRootfs } from './support';

afterEach(cleanup);

const base: ContainerOptions = { rootfs: sharedRootfs, readonly: true };

describe('a host abstract unix socket is out of reach (network namespace)', () => {
  let server: net.Server;
  let name: string;
  beforeEach(async () => {
    name = `tsc-sec-${process.pid}-${Math.random().toString(36).slice(2)}`;
    server = net.createServer((s) => s.end('hello'));
    await new Promise<void>((resolve) => server.listen(`\0${name}`, resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('control: from the host, and from a container with network "host", the socket answers', async () => {
    // Asynchronously: the server in this process must be free to answer.
    const host = await new Promise<string>((resolve) => execFile(fixture('abstract-connect'), [name], (_err, stdout) => resolve(stdout)));
    expect(host.trim()).toBe('connected read=hello');
    const r = await make({ ...base, network: 'host', mounts: [fixturesMount('abstract-connect')] })
      .spawn(['/fixtures/abstract-connect', name], { stdio: 'pipe' })
      .output();
    expect(r.stdout.trim()).toBe('connected read=hello');
  });

  test.each([
    ['default', {}],
    ['user namespace', { userns: true }],
    ['root with CAP_NET_ADMIN, CAP_SYS_ADMIN added', { capabilities: { add: ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'] as const } }],
  ])('%s: connect fails with ECONNREFUSED, and the socket is not listed in /proc/net/unix', async (_name, opts: ContainerOptions) => {
    const c = make({ ...base, ...opts, mounts: [fixturesMount('abstract-connect')] });
    const r = await c.spawn(['sh', '-c', `/fixtures/abstract-connect ${name}; grep -c ${name} /proc/net/unix`], { stdio: 'pipe' }).output();
    expect(r.stdout.trim().split('\n')).toEqual(['connect: ECONNREFUSED', '0']);
  });
});

describe('the host\'s pids are out of reach (pid namespace)', () => {
  test.each([
    ['default', {}],
    ['root with CAP_SYS_PTRACE and CAP_KILL added', { capabilities: { add: ['CAP_SYS_PTRACE', 'CAP_KILL'] as const } }],
    ['user namespace', { userns: true }],
  ])('%s: kill, ptrace and pidfd_open of this test\'s (host) pid fail with ESRCH', async (_name, opts: ContainerOptions) => {
    const target = process.pid;
    const c = make({ ...base, ...opts, mounts: [fixturesMount('host-pid')] });
    const r = await c
      .spawn(['sh', '-c', `/fixtures/host-pid ${target}; kill -0 ${target} 2>/dev/null && echo "busybox-kill: ok"; ls /proc/${target} >/dev/null 2>&1 && echo "proc-entry: ok"; true`], {
        stdio: 'pipe',
        env: { HOST_PID: String(target) },
      })
      .output();
    const res = results(r.stdout);
    expect(res).toEqual({
      kill0: 'ESRCH',
      sigcont: 'ESRCH',
      ptrace_attach: 'ESRCH',
      ptrace_seize: 'ESRCH',
      pidfd_open: 'ESRCH',
    });
  });

  test('an exec\'d process sees only the container\'s processes', async () => {
    const c = make(base);
    const main = c.spawn(['sleep', '1000'], { stdio: 'pipe' });
    await main.started;
    const r = await c.exec(['sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "'], { stdio: 'pipe' }).output();
    const pids = r.stdout.trim().split(' ').map(Number);
    expect(pids.every((p) => p < 100)).toBe(true);
    expect(pids).not.toContain(process.pid);
  });
});

describe('TIOCSTI into the caller\'s terminal (each process in a new session)', () => {
  test('main and exec\'d processes are session leaders with no controlling terminal', async () => {
    // /proc/self/stat: pid (1) ... session (6) tty_nr (7); comm has no spaces here.
    const script = 'read -r pid comm state ppid pgrp session tty rest < /proc/self/stat; echo "$pid $session $tty"';
    const c = make(base);
    const main = c.spawn(['sh', '-c', `${script}; sleep 1000`], { stdio: 'pipe' });
    await main.started;
    let mainOut = '';
    main.stdout!.on('data', (d: Buffer) => (mainOut += d.toString()));
    const ex = await c.exec(['sh', '-c', script], { stdio: 'pipe' }).output();
    for (let i = 0; i < 50 && !mainOut.includes('\n'); i++) await new Promise((r) => setTimeout(r, 10));
    for (const line of [mainOut.trim(), ex.stdout.trim()]) {
      const [pid, session, tty] = line.split(' ');
      expect(session).toBe(pid);
      expect(tty).toBe('0');
    }
  });

  test('control: the host\'s root (CAP_SYS_ADMIN) can push input into that pty, and the holder sees it', async () => {
    const holder = spawn(fixture('ptyhold'), [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    let holderOut = '';
    holder.stdout.on('data', (d: Buffer) => (holderOut += d.toString()));
    try {
      while (!holderOut.includes('\n')) await new Promise((r) => setTimeout(r, 10));
      const slave = fs.openSync(/^slave (\S+)/m.exec(holderOut)![1], fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      const out = await new Promise<string>((resolve) => {
        const p = spawn(fixture('tiocsti'), [], { stdio: [slave, 'pipe', 'inherit'] });
        let text = '';
        p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
        p.once('close', () => resolve(text));
      });
      fs.closeSync(slave);
      expect(results(out).tiocsti).toBe('ok');
      holder.stdin.write('\n');
      // 'close', not 'exit': its last output may arrive after it has exited.
      await new Promise((resolve) => holder.once('close', resolve));
      expect(holderOut).toMatch(/^pending [1-9]\d* INJECTED\./m);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('TIOCSTI on a pty that is the controlling terminal of a host session fails, before and after TIOCSCTTY', async () => {
    // The host side: a session leader whose controlling terminal is a fresh pty (as a
    // user's shell and terminal), which reports at the end what input is waiting on it.
    const holder = spawn(fixture('ptyhold'), [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    let holderOut = '';
    holder.stdout.on('data', (d: Buffer) => (holderOut += d.toString()));
    try {
      while (!holderOut.includes('\n')) await new Promise((r) => setTimeout(r, 10));
      const m = /^slave (\S+) ctty=1$/m.exec(holderOut);
      expect(m).not.toBeNull();
      const slave = fs.openSync(m![1], fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      try {
        const c = make({ ...base, mounts: [fixturesMount('tiocsti')] });
        const r = await c.spawn(['/fixtures/tiocsti'], { stdio: [slave, 'pipe', 'pipe'] }).output();
        const res = results(r.stdout);
        expect(res.isatty).toBe('1');
        // Not its controlling terminal: EPERM (or EIO where legacy TIOCSTI is off).
        expect(res.tiocsti).toMatch(/^(EPERM|EIO)$/);
        // It cannot take the terminal from the host session, with or without force.
        expect(res.tiocsctty).toBe('EPERM');
        expect(res.tiocsctty_steal).toBe('EPERM');
        expect(res.tiocsti_after_sctty).toMatch(/^(EPERM|EIO)$/);
      } finally {
        fs.closeSync(slave);
      }
      holder.stdin.write('\n');
      // 'close', not 'exit': its last output may arrive after it has exited.
      await new Promise((resolve) => holder.once('close', resolve));
      // Nothing was pushed into the terminal's input.
      expect(holderOut).toMatch(/^pending 0 *$/m);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('an exec\'d process given the pty as stdin cannot inject either', async () => {
    const holder = spawn(fixture('ptyhold'), [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    let holderOut = '';
    holder.stdout.on('data', (d: Buffer) => (holderOut += d.toString()));
    try {
      while (!holderOut.includes('\n')) await new Promise((r) => setTimeout(r, 10));
      const slavePath = /^slave (\S+)/m.exec(holderOut)![1];
      const slave = fs.openSync(slavePath, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      try {
        const c = make({ ...base, mounts: [fixturesMount('tiocsti')] });
        const main = c.spawn(['sleep', '1000'], { stdio: 'pipe' });
        await main.started;
        const r = await c.exec(['/fixtures/tiocsti'], { stdio: [slave, 'pipe', 'pipe'] }).output();
        const res = results(r.stdout);
        expect(res.tiocsti).toMatch(/^(EPERM|EIO)$/);
        expect(res.tiocsti_after_sctty).toMatch(/^(EPERM|EIO)$/);
      } finally {
        fs.closeSync(slave);
      }
      holder.stdin.write('\n');
      // 'close', not 'exit': its last output may arrive after it has exited.
      await new Promise((resolve) => holder.once('close', resolve));
      expect(holderOut).toMatch(/^pending 0 *$/m);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

describe('syscalls Docker\'s default seccomp profile refuses to a container\'s root', () => {
  // Without the profile, unshare(CLONE_NEWUSER) works for any process, and the
  // new namespace's full capabilities open up kernel code (mount of new
  // filesystems, netfilter...) that the host's root alone should reach.
  test.each([
    ['root', undefined],
    ['uid 1000', { uid: 1000, gid: 1000 }],
  ])('%s: keyctl, add_key, mount, unshare(CLONE_NEWUSER) and unshare(CLONE_NEWNS) fail with EPERM', async (_name, user) => {
    const c = make({ ...base, user, mounts: [fixturesMount('nsescape')] });
    const r = await c.spawn(['/fixtures/nsescape'], { stdio: 'pipe' }).output();
    const res = results(r.stdout);
    expect(res).toEqual({
      keyctl_join: 'EPERM',
      add_key: 'EPERM',
      mount_tmpfs: 'EPERM',
      unshare_user: 'EPERM',
      unshare_mount: 'EPERM',
      mount_after_unshare: 'EPERM',
    });
  });

  test('control: with seccomp "unconfined" the same root gets a new user namespace and a session keyring', async () => {
    const c = make({ ...base, seccomp: 'unconfined', mounts: [fixturesMount('nsescape')] });
    const r = await c.spawn(['/fixtures/nsescape'], { stdio: 'pipe' }).output();
    const res = results(r.stdout);
    expect(res.unshare_user).toBe('ok');
    expect(res.keyctl_join).toBe('ok');
  });
});
