/**
 * A ContainerProcess behaves as a ChildProcess where a user relies on it: a failure to start
 * that nobody listens for is an uncaught exception, not silence; output() is execFile's, with
 * its maxBuffer, and refuses stdio that is not piped; a timeout says so on the result, with or
 * without init; output() and 'close' come even when a process left behind holds the pipes; the
 * usage report says how long setup took.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerOptions } from '../lib/options/types';
import { formatUsage, runCommand } from '../lib/cli/run-command';
import { parseCommandLine } from '../lib/cli/program';
import type { RunCommand } from '../lib/cli/parsed';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';
import { removeScripts, runScript } from './support/node-script';

const rootfs = ensureBusyboxRootfs();
const { make, tempDirs } = useContainers();

function options(extra: ContainerOptions = {}): ContainerOptions {
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'process-api-'));
  tempDirs.push(stateRoot);
  return { rootfs, readonly: true, stateRoot, ...extra };
}

afterAll(() => removeScripts());

describe("a failure to start that nobody handles is raised, as ChildProcess's", () => {
  const script = (handling: string): string => `
    const stateRoot = require('node:fs').mkdtempSync('/tmp/process-api-script-');
    process.on('exit', () => require('node:fs').rmSync(stateRoot, { recursive: true, force: true }));
    process.on('uncaughtException', (error) => {
      console.log('uncaught: ' + error.message + ' ' + error.code);
      process.exit(3);
    });
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true, stateRoot });
    const p = c.spawn(['no-such-program'], { stdio: 'ignore' });
    ${handling}
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await c.destroy();
    console.log('done');
  `;

  test('no listener and no wait(): an uncaught exception', async () => {
    const r = await runScript(script(''));
    expect(r.stdout).toBe('uncaught: spawn no-such-program ENOENT ENOENT\n');
    expect(r.code).toBe(3);
  });

  test("an 'error' listener gets it instead", async () => {
    const r = await runScript(script("p.on('error', (e) => console.log('event: ' + e.code));"));
    expect(r.stdout).toBe('event: ENOENT\ndone\n');
  });

  test('a pending wait() counts as handling it', async () => {
    const r = await runScript(script("p.wait().catch((e) => console.log('wait: ' + e.code));"));
    expect(r.stdout).toBe('wait: ENOENT\ndone\n');
  });

  test('a pending output() counts as handling it', async () => {
    const r = await runScript(script("p.output().catch((e) => console.log('output: ' + e.constructor.name));").replace("stdio: 'ignore'", "stdio: 'pipe'"));
    expect(r.stdout).toBe('output: Error\ndone\n');
  });
});

describe('output(), as execFile', () => {
  test("stdio that is not 'pipe' is an error", async () => {
    const c = make(options());
    const p = c.spawn(['true'], { stdio: 'ignore' });
    await expect(p.output()).rejects.toThrow(/^stdio: output\(\) collects stdout and stderr/);
    await expect(p.output()).rejects.toBeInstanceOf(TypeError);
    expect(await p.wait()).toMatchObject({ exitCode: 0 });
  });

  test('maxBuffer: 1 MiB by default; more kills the process and rejects as execFile does', async () => {
    const c = make(options());
    await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    const error = await c
      .exec(['sh', '-c', 'head -c 3000000 /dev/zero; sleep 1000'])
      .output()
      .then(() => undefined, (e: unknown) => e as RangeError & { code: string; stdout: string; signal: string | null; killed: boolean });
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', message: 'stdout maxBuffer length exceeded', signal: 'SIGKILL', killed: true });
    expect(error?.stdout.length).toBe(1024 * 1024);
  });

  test('maxBuffer given: that many bytes are kept, of stderr too', async () => {
    const c = make(options());
    await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    const error = await c
      .exec(['sh', '-c', 'head -c 5000 /dev/zero >&2; sleep 1000'])
      .output({ maxBuffer: 100 })
      .catch((e: unknown) => e as { code: string; stderr: string; message: string });
    expect(error).toMatchObject({ code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER', message: 'stderr maxBuffer length exceeded' });
    expect((error as { stderr: string }).stderr.length).toBe(100);
    const fits = await c.exec(['sh', '-c', 'printf 12345']).output({ maxBuffer: 5 });
    expect(fits).toMatchObject({ exitCode: 0, stdout: '12345' });
  });

  test('a timeout sets timedOut and killed, the same with init as without', async () => {
    for (const init of [false, true]) {
      const c = make(options({ init }));
      const r = await c.spawn(['sleep', '1000'], { stdio: 'pipe', timeout: 200, killSignal: 'SIGKILL' }).output();
      expect(r).toMatchObject({ timedOut: true, killed: true });
      const quick = await make(options({ init })).spawn(['true'], { stdio: 'pipe', timeout: 20000 }).output();
      expect(quick).toMatchObject({ exitCode: 0, timedOut: false, killed: false });
    }
  });

  test('kill() sets killed on the result', async () => {
    const c = make(options());
    const p = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await p.started;
    p.kill('SIGKILL');
    expect(await p.wait()).toMatchObject({ signal: 'SIGKILL', killed: true, timedOut: false });
  });
});

describe('a process left behind holding the pipes', () => {
  test("exec(...).output() resolves with what was read and says so; 'close' comes", async () => {
    const c = make(options());
    await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    const p = c.exec(['sh', '-c', 'echo before; sleep 1000 & exit 0']);
    const closed = new Promise<unknown[]>((resolve) => p.once('close', (...args) => resolve(args)));
    const r = await p.output();
    expect(r).toMatchObject({ exitCode: 0, stdout: 'before\n', stderr: '', stdioOpenAfterExit: true });
    expect(await closed).toEqual([0, null]);
    expect(p.stdioOpenAfterExit).toBe(true);
  }, 20000);

  test('a program that closes its pipes itself: stdioOpenAfterExit is false', async () => {
    const c = make(options());
    const r = await c.spawn(['sh', '-c', 'echo done'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject({ exitCode: 0, stdout: 'done\n', stdioOpenAfterExit: false });
  });

  test('output a caller has not read yet is kept: only reading time counts', async () => {
    const c = make(options());
    await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    const p = c.exec(['sh', '-c', 'echo kept; sleep 1000 & exit 0']);
    await p.wait();
    // Nobody read for longer than the bound: the output is still there to read.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const r = await p.output();
    expect(r).toMatchObject({ stdout: 'kept\n', stdioOpenAfterExit: true });
  }, 20000);
});

describe('usage: setupMs beside wallMs', () => {
  test('the report has both; wallMs counts from exec to exit', async () => {
    const c = make(options());
    const main = await c.spawn(['true'], { stdio: 'pipe' }).output();
    expect(main.usage).toMatchObject({ setupMs: expect.any(Number), wallMs: expect.any(Number) });
    expect(main.usage!.setupMs).toBeGreaterThan(0);
    expect(formatUsage(main.usage!)).toMatch(/^usage: setup \d+(\.\d)? ms, wall \d+(\.\d)? ms \(from exec to exit\), cpu user/);
  });

  test('an exec reports its setup too', async () => {
    const c = make(options());
    await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    const r = await c.exec(['true']).output();
    expect(r.usage!.setupMs).toBeGreaterThan(0);
  });

  test('run --usage prints both', async () => {
    const stateRoot = options().stateRoot as string;
    const cmd = parseCommandLine(['--root', stateRoot, 'run', '--rm', '--rootfs', rootfs, '--usage', '--', 'true']) as RunCommand;
    let printed = '';
    const code = await runCommand(cmd, { stderr: { write: (s: string) => (printed += s) } });
    expect(code).toBe(0);
    expect(printed).toMatch(/^ts-container: usage: setup \d+(\.\d)? ms, wall \d+(\.\d)? ms \(from exec to exit\)/);
  });
});
