/**
 * The life of a container: exit codes and signals of the main process, wait(), kill(),
 * timeout and AbortSignal, destroy() (idempotent, kills everything) and asyncDispose.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Container } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';
import { waitPidGone, childProcesses } from './support/leftovers';

const rootfs = ensureBusyboxRootfs();
const base: ContainerOptions = { rootfs, readonly: true };
const { make } = useContainers(base);

/** Just the exit status fields (results may carry more, e.g. resource usage). */
const exitStatus = (st: { exitCode: number | null; signal: NodeJS.Signals | null }) => ({ exitCode: st.exitCode, signal: st.signal });

describe('exit status of the main process', () => {
  test.each([0, 1, 2, 42, 126, 255])('exit code %i, from p.wait() and c.wait()', async (code) => {
    const c = make();
    const p = c.spawn(['sh', '-c', `exit ${code}`], { stdio: 'ignore' });
    expect(await p.wait()).toMatchObject({ exitCode: code, signal: null });
    expect(await c.wait()).toMatchObject({ exitCode: code, signal: null });
    expect(p.exitCode).toBe(code);
    expect(p.signalCode).toBeNull();
  });

  test('true and false', async () => {
    expect(await make().spawn(['true']).wait()).toMatchObject({ exitCode: 0, signal: null });
    expect(await make().spawn(['false']).wait()).toMatchObject({ exitCode: 1, signal: null });
  });

  test('c.wait() resolves the same status more than once', async () => {
    const c = make();
    c.spawn(['sh', '-c', 'exit 4'], { stdio: 'ignore' });
    const [a, b] = await Promise.all([c.wait(), c.wait()]);
    expect(a).toMatchObject({ exitCode: 4, signal: null });
    expect(b).toEqual(a);
    expect(await c.wait()).toEqual(a);
  });
});

describe('signals to the main process', () => {
  test('p.kill("SIGKILL")', async () => {
    const p = make().spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    expect(p.kill('SIGKILL')).toBe(true);
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(p.signalCode).toBe('SIGKILL');
  });

  test('c.kill("SIGKILL") and c.wait()', async () => {
    const c = make();
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    expect(c.kill('SIGKILL')).toBe(true);
    expect(await c.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  const trapScript = 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done';

  async function startTrapping(c: Container) {
    const p = c.spawn(['sh', '-c', trapScript], { stdio: 'pipe' });
    const output = p.output();
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10000;
    while (!out.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(out).toBe('ready\n');
    return { p, output };
  }

  test('p.kill("SIGTERM") reaches a PID 1 that handles it', async () => {
    const { p, output } = await startTrapping(make());
    expect(p.kill('SIGTERM')).toBe(true);
    expect(await output).toMatchObject({ exitCode: 0, signal: null, stdout: 'ready\ngot-term\n', stderr: '' });
  });

  test('c.kill("SIGTERM") reaches a PID 1 that handles it', async () => {
    const c = make();
    const { output } = await startTrapping(c);
    expect(c.kill('SIGTERM')).toBe(true);
    expect(await output).toMatchObject({ exitCode: 0, signal: null, stdout: 'ready\ngot-term\n' });
  });

  test('SIGTERM to a program behind init ends it', async () => {
    const c = make({ ...base, init: true });
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    await new Promise((r) => setTimeout(r, 200));
    c.kill('SIGTERM');
    expect([{ exitCode: null, signal: 'SIGTERM' }, { exitCode: 143, signal: null }]).toContainEqual(exitStatus(await p.wait()));
  });

  test('kill before the process has started is delivered once it runs', async () => {
    const c = make();
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    p.kill('SIGKILL');
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  test('kill after exit returns false', async () => {
    const c = make();
    const p = c.spawn(['true'], { stdio: 'ignore' });
    await p.wait();
    expect(p.kill('SIGKILL')).toBe(false);
  });

  test('timeout with killSignal SIGKILL ends the main process', async () => {
    const t0 = Date.now();
    const p = make().spawn(['sleep', '30'], { stdio: 'ignore', timeout: 300, killSignal: 'SIGKILL' });
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(10000);
  });

  test('a timeout that does not fire changes nothing', async () => {
    const p = make().spawn(['sh', '-c', 'exit 3'], { stdio: 'ignore', timeout: 20000 });
    expect(await p.wait()).toMatchObject({ exitCode: 3, signal: null });
  });

  test('an AbortSignal kills the main process with killSignal and emits an AbortError', async () => {
    const ac = new AbortController();
    const p = make().spawn(['sleep', '30'], { stdio: 'ignore', signal: ac.signal, killSignal: 'SIGKILL' });
    const errors: Error[] = [];
    p.on('error', (e) => errors.push(e));
    // (events.once would reject on the 'error' event, so listen by hand.)
    const exited = new Promise((resolve) => p.once('exit', (code, signal) => resolve([code, signal])));
    await new Promise<void>((resolve) => p.once('spawn', resolve));
    ac.abort();
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(errors.map((e) => e.name)).toEqual(['AbortError']);
  });

  test('an already aborted signal: the program does not keep running', async () => {
    const p = make().spawn(['sleep', '30'], { stdio: 'ignore', signal: AbortSignal.abort(), killSignal: 'SIGKILL' });
    const errors: Error[] = [];
    p.on('error', (e) => errors.push(e));
    const t0 = Date.now();
    await p.wait().catch(() => undefined);
    expect(Date.now() - t0).toBeLessThan(10000);
    expect(errors.map((e) => e.name)).toEqual(['AbortError']);
  });
});

describe('destroy', () => {
  test('kills the main process and every exec, and all are reaped', async () => {
    const c = new Container(base);
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    const e = c.exec(['sleep', '30'], { stdio: 'ignore' });
    await once(e, 'spawn');
    const pids = [p.pid!, e.pid!];
    await c.destroy();
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(await e.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    for (const pid of pids) expect([pid, await waitPidGone(pid)]).toEqual([pid, true]);
    expect(childProcesses().filter((s) => pids.includes(s.pid))).toEqual([]);
  });

  test('is idempotent and may run concurrently', async () => {
    const c = new Container(base);
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    await Promise.all([c.destroy(), c.destroy()]);
    await c.destroy();
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  test('after a normal exit, and before any spawn', async () => {
    const c = new Container(base);
    expect(await c.spawn(['true']).wait()).toMatchObject({ exitCode: 0, signal: null });
    await c.destroy();
    await c.destroy();
    const unused = new Container(base);
    await unused.destroy();
    await unused.destroy();
  });

  test('a destroyed container refuses spawn and exec', async () => {
    const c = new Container(base);
    await c.destroy();
    expect(() => c.spawn(['true'])).toThrow();
    const c2 = new Container(base);
    const p = c2.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    await c2.destroy();
    let error: unknown;
    try {
      await c2.exec(['true']).wait();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
  });

  test('a second spawn on the same container is refused', async () => {
    const c = make();
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    expect(() => c.spawn(['true'])).toThrow();
    // The first main process is untouched.
    expect(p.exitCode).toBeNull();
  });

  test('await using destroys the container at the end of the block (in a real Node process)', async () => {
    // jest runs tests in a vm context whose Symbol has no asyncDispose on Node 20, so the
    // check runs in a plain Node process, as users run it.
    const script = `
      import { Container } from ${JSON.stringify(path.resolve(__dirname, '..', 'lib'))};
      import * as fs from 'node:fs';
      (async () => {
        let pid = 0;
        let p: any;
        {
          await using c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true });
          if (typeof (c as any)[Symbol.asyncDispose] !== 'function') throw new Error('no Symbol.asyncDispose method');
          p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
          await new Promise((r) => p.once('spawn', r));
          pid = p.pid;
          console.log('running ' + fs.existsSync('/proc/' + pid));
        }
        const st = await p.wait();
        console.log('status ' + JSON.stringify({ exitCode: st.exitCode, signal: st.signal }));
        console.log('gone ' + !fs.existsSync('/proc/' + pid));
      })().catch((e) => { console.error(e); process.exit(1); });
    `;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-using-'));
    try {
      const file = path.join(dir, 'using.ts');
      fs.writeFileSync(file, script);
      const tsx = path.resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
      const { stdout } = await promisify(execFile)(tsx, [file], { timeout: 30000 });
      expect(stdout).toBe('running true\nstatus {"exitCode":null,"signal":"SIGKILL"}\ngone true\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
