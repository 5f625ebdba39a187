/**
 * Escape class: a host fd leaked into the container, or a cwd of
 * /proc/self/fd/N reaching the host (CVE-2024-21626).
 *
 * The main process and exec'd processes list their open fds: only 0, 1, 2 and
 * the fd of the listing itself. The cwd option set to /proc/self/fd/N (for each
 * N the helper might hold at chdir time) either fails to start or leaves the
 * process inside the container: walking `..` from its cwd ends at the
 * container's root, never at the host's. A container made with create() and
 * started later keeps no fd of its start FIFO, its state locks or its log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerOptions, ProcessOutput } from '../../lib';
import { cleanup, make, rootfsCopy, run, sharedRootfs } from './support';

afterEach(cleanup);

const base: ContainerOptions = { rootfs: sharedRootfs, readonly: true };

/** fd numbers of `ls /proc/self/fd` (the listing's own directory fd is one of them). */
function fdList(out: ProcessOutput): string[] {
  return out.stdout.split(/\s+/).filter(Boolean).sort((a, b) => Number(a) - Number(b));
}

describe('CVE-2024-21626: no host fd reaches the container', () => {
  test('the main process has only fds 0, 1, 2 (and the listing\'s own)', async () => {
    const r = await run(base, ['ls', '/proc/self/fd']);
    expect(r.exitCode).toBe(0);
    expect(fdList(r)).toEqual(['0', '1', '2', '3']);
  });

  test('each open fd of the main process points inside the container (ls -l shows no host path)', async () => {
    // The glob's own directory fd is closed by the time readlink runs: it prints nothing.
    const r = await run(base, ['sh', '-c', 'for f in /proc/self/fd/*; do l=$(readlink $f) && echo "$f -> $l"; done; true']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/fd\/0 -> /);
    for (const line of r.stdout.trim().split('\n')) {
      expect(line).toMatch(/-> (pipe:\[\d+\]|\/proc\/\d+\/fd|\/dev\/null)$/);
    }
  });

  test('exec\'d processes have only fds 0, 1, 2 (and the listing\'s own), with and without a tiny init', async () => {
    for (const init of [false, true]) {
      const c = make({ ...base, init });
      const main = c.spawn(['sleep', '1000'], { stdio: 'pipe' });
      await main.started;
      for (let i = 0; i < 3; i++) {
        const r = await c.exec(['ls', '/proc/self/fd'], { stdio: 'pipe' }).output();
        expect(r.exitCode).toBe(0);
        expect(fdList(r)).toEqual(['0', '1', '2', '3']);
      }
      // PID 1's fds, seen from an exec'd process: nothing but its stdio.
      const one = await c.exec(['ls', '/proc/1/fd'], { stdio: 'pipe' }).output();
      expect(one.exitCode).toBe(0);
      expect(fdList(one)).toEqual(['0', '1', '2']);
      // With an init, its child (the program) likewise.
      if (init) {
        const kids = await c.exec(['sh', '-c', 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sleep ] && ls $p/fd; done; true'], { stdio: 'pipe' }).output();
        expect(fdList(kids)).toEqual(['0', '1', '2']);
      }
      await c.destroy();
    }
  });

  test('a created, then started program holds no fd of the start FIFO, the state locks or the log', async () => {
    for (const detach of [false, true]) {
      // Made while its program waits at the start gate, which holds the FIFO; started later.
      const c = make({ ...base, detach });
      const main = await c.create(['sleep', '1000']);
      await c.start();
      // Until it execs sleep, the process is still the helper past its gate, closing fds.
      const deadline = Date.now() + 5000;
      while (fs.readFileSync(`/proc/${main.pid}/comm`, 'utf8').trim() !== 'sleep' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Seen from the host: every fd of the program is stdio, nothing in the state directory.
      const links = fs.readdirSync(`/proc/${main.pid}/fd`).map((fd) => `${fd} -> ${fs.readlinkSync(`/proc/${main.pid}/fd/${fd}`)}`);
      expect(links.map((l) => l.split(' ')[0]).sort()).toEqual(['0', '1', '2']);
      for (const link of links) expect(link).toMatch(/-> (pipe:\[\d+\]|\/dev\/null)$/);
      await c.destroy();
    }
  });

  test('no process of a running container holds a host directory or file open', async () => {
    const c = make(base);
    const main = c.spawn(['sleep', '1000'], { stdio: 'pipe' });
    await main.started;
    // From the host: every fd of the container's PID 1 is a pipe or /dev/null.
    const links = fs.readdirSync(`/proc/${main.pid}/fd`).map((fd) => fs.readlinkSync(`/proc/${main.pid}/fd/${fd}`));
    for (const l of links) expect(l).toMatch(/^(pipe:\[\d+\]|\/dev\/null)$/);
    // From inside, with a long-lived exec'd process too.
    const r = await c.exec(['sh', '-c', 'for p in /proc/[0-9]*; do for f in $p/fd/*; do readlink $f; done; done; true'], { stdio: 'pipe' }).output();
    expect(r.exitCode).toBe(0);
    for (const l of r.stdout.trim().split('\n').filter(Boolean)) {
      expect(l).toMatch(/^(pipe:\[\d+\]|\/dev\/null|\/proc\/\d+\/fd)$/);
    }
  });
});

describe('CVE-2024-21626: a cwd of /proc/self/fd/N does not reach the host', () => {
  // Walk up from the cwd and compare where that ends with the container's /.
  const probe = [
    'echo "cwd=$(readlink /proc/self/cwd)"',
    'echo "up=$(ls -a ../../../../../../.. | tr "\\n" " ")"',
    'cd ../../../../../../.. && echo "top=$(stat -c %d:%i .)" && echo "root=$(stat -c %d:%i /)"',
    'ls -a /proc/self/cwd/ | grep -q inside-marker && echo marker=yes || echo marker=no',
  ].join('; ');

  let rootfs: string;
  beforeEach(() => {
    rootfs = rootfsCopy('cwd');
    fs.writeFileSync(path.join(rootfs, 'inside-marker'), '');
  });

  function expectInside(out: ProcessOutput): void {
    const fields = Object.fromEntries(
      out.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    // `..` from the cwd stops at the container's root.
    expect(fields.top).toBe(fields.root);
    expect(fields.up).toContain('inside-marker');
    // The host's / has none of these busybox-rootfs files next to each other.
    expect(fields.cwd).not.toMatch(/^\/(work|tmp\/tsc-sec|root\/)/);
  }

  /** A start with that cwd fails with an error, or the process stays inside. */
  async function tryCwd(start: () => Promise<ProcessOutput>): Promise<'refused' | 'inside'> {
    let out: ProcessOutput;
    try {
      out = await start();
    } catch (err) {
      if (process.env.TSC_SECURITY_VERBOSE) console.log(String(err));
      expect(String(err)).toMatch(/chdir|ENOTDIR|ENOENT|EACCES|EBADF/);
      return 'refused';
    }
    if (process.env.TSC_SECURITY_VERBOSE) console.log(JSON.stringify(out));
    if (out.exitCode !== 0) {
      // The helper reported the failed chdir as a nonzero exit without output.
      expect(out.stdout).not.toContain('top=');
      return 'refused';
    }
    expectInside(out);
    return 'inside';
  }

  test('main process: cwd /proc/self/fd/3 ... /proc/self/fd/12', async () => {
    for (let n = 3; n <= 12; n++) {
      const outcome = await tryCwd(() => run({ rootfs, cwd: `/proc/self/fd/${n}` }, ['sh', '-c', probe]));
      expect(['refused', 'inside']).toContain(outcome);
    }
  });

  test('exec: cwd /proc/self/fd/3 ... /proc/self/fd/12, and /proc/1/fd/N', async () => {
    const c = make({ rootfs });
    const main = c.spawn(['sleep', '1000'], { stdio: 'pipe' });
    await main.started;
    for (const dir of ['/proc/self/fd', '/proc/1/fd', '/proc/thread-self/fd']) {
      for (let n = 0; n <= 12; n++) {
        const outcome = await tryCwd(() => c.exec(['sh', '-c', probe], { stdio: 'pipe', cwd: `${dir}/${n}` }).output());
        expect(['refused', 'inside']).toContain(outcome);
      }
    }
  });

  test('exec into a container whose PID 1 holds a host-side-looking directory fd: only its own', async () => {
    // PID 1 opens a directory of the container on fd 7; an exec with cwd /proc/1/fd/7 lands there, inside.
    const c = make({ rootfs });
    const main = c.spawn(['sh', '-c', 'exec 7</etc; sleep 1000'], { stdio: 'pipe' });
    await main.started;
    const out = await c.exec(['sh', '-c', probe], { stdio: 'pipe', cwd: '/proc/1/fd/7' }).output().catch((e) => e);
    if (out instanceof Error) return; // refused: fine
    expectInside(out);
  });
});
