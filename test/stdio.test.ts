/**
 * stdio of the main process as child_process gives it: 'pipe', 'ignore', 'inherit', arrays
 * of those, fds and streams; the ChildProcess-like events; output().
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const base: ContainerOptions = { rootfs, readonly: true };
const { make, tempDirs } = useContainers(base);

function tempFile(name: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'stdio-'));
  tempDirs.push(d);
  return path.join(d, name);
}

describe('pipes', () => {
  test('stdout and stderr are separate pipes', async () => {
    const p = make().spawn(['sh', '-c', 'echo out; echo err >&2; echo out2'], { stdio: 'pipe' });
    expect(await p.output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'out\nout2\n', stderr: 'err\n' });
  });

  test('the default stdio is pipe', async () => {
    const p = make().spawn(['sh', '-c', 'echo out; echo err >&2']);
    expect(p.stdin).not.toBeNull();
    expect(p.stdout).not.toBeNull();
    expect(p.stderr).not.toBeNull();
    p.stdin!.end();
    expect(await p.output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'out\n', stderr: 'err\n' });
  });

  test('stdin reaches the program, and its end is EOF', async () => {
    const p = make().spawn(['sh', '-c', 'cat; echo done'], { stdio: 'pipe' });
    p.stdin!.write('line 1\n');
    p.stdin!.end('line 2\n');
    expect(await p.output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'line 1\nline 2\ndone\n', stderr: '' });
  });

  test('an interactive exchange over stdin and stdout', async () => {
    const p = make().spawn(['sh', '-c', 'while read l; do echo "got $l"; done'], { stdio: 'pipe' });
    const lines: string[] = [];
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    for (const word of ['a', 'b', 'c']) {
      const n = lines.length;
      p.stdin!.write(`${word}\n`);
      while (lines.length === n) await new Promise((r) => setTimeout(r, 10));
    }
    p.stdin!.end();
    expect(await p.wait()).toMatchObject({ exitCode: 0, signal: null });
    expect(lines).toEqual(['got a', 'got b', 'got c']);
  });

  test('large output is delivered completely', async () => {
    const p = make().spawn(['seq', '1', '200000'], { stdio: 'pipe' });
    // 1.3 MB: more than output()'s default maxBuffer (1 MiB, as execFile).
    const r = await p.output({ maxBuffer: 2 * 1024 * 1024 });
    expect(r.exitCode).toBe(0);
    const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join('');
    expect(r.stdout.length).toBe(expected.length);
    expect(r.stdout === expected).toBe(true);
  });

  test('large input is delivered completely', async () => {
    const p = make().spawn(['wc', '-c'], { stdio: 'pipe' });
    const chunk = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 8; i++) p.stdin!.write(chunk);
    p.stdin!.end();
    const r = await p.output();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(String(8 << 20));
  });

  test('the program sees pipes on its stdio', async () => {
    const p = make().spawn(['sh', '-c', 'for i in 0 1 2; do readlink /proc/self/fd/$i; done'], { stdio: 'pipe' });
    p.stdin!.end();
    const r = await p.output();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.replace(/\d+/, 'N'))).toEqual(['pipe:[N]', 'pipe:[N]', 'pipe:[N]']);
  });
});

describe('ignore, fds, streams, arrays', () => {
  test("'ignore' gives /dev/null and no streams", async () => {
    const p = make().spawn(['sh', '-c', 'cat && echo out'], { stdio: 'ignore' });
    expect(p.stdin).toBeNull();
    expect(p.stdout).toBeNull();
    expect(p.stderr).toBeNull();
    expect(await p.wait()).toMatchObject({ exitCode: 0, signal: null });
  });

  test('an array mixes kinds; ignored stdout reads as /dev/null inside', async () => {
    const p = make().spawn(['sh', '-c', 'exec 3>&1; readlink /proc/self/fd/3 >&2; readlink /proc/self/fd/0 >&2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    expect(p.stdin).toBeNull();
    expect(p.stdout).toBeNull();
    expect(p.stderr).not.toBeNull();
    // output() takes only piped stdout and stderr: stderr is read by hand.
    let stderr = '';
    p.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => p.once('close', resolve));
    expect([p.exitCode, p.signalCode, stderr]).toEqual([0, null, '/dev/null\n/dev/null\n']);
  });

  test('an fd for stdout and stderr', async () => {
    const file = tempFile('out');
    const fd = fs.openSync(file, 'w');
    try {
      const p = make().spawn(['sh', '-c', 'echo to-stdout; echo to-stderr >&2'], { stdio: ['ignore', fd, fd] });
      expect(await p.wait()).toMatchObject({ exitCode: 0, signal: null });
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('to-stdout\nto-stderr\n');
  });

  test('an fd for stdin', async () => {
    const file = tempFile('in');
    fs.writeFileSync(file, 'from a file\n');
    const fd = fs.openSync(file, 'r');
    try {
      const p = make().spawn(['cat'], { stdio: [fd, 'pipe', 'pipe'] });
      expect(p.stdin).toBeNull();
      expect(await p.output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'from a file\n', stderr: '' });
    } finally {
      fs.closeSync(fd);
    }
  });

  test('a file stream with an fd', async () => {
    const file = tempFile('stream');
    const ws = fs.createWriteStream(file);
    await once(ws, 'open');
    const p = make().spawn(['echo', 'via stream'], { stdio: ['ignore', ws, 'ignore'] });
    expect(await p.wait()).toMatchObject({ exitCode: 0, signal: null });
    ws.end();
    await once(ws, 'close');
    expect(fs.readFileSync(file, 'utf8')).toBe('via stream\n');
  });

  test('a stream without an fd (a PassThrough)', async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (d: Buffer) => chunks.push(d));
    const p = make().spawn(['echo', 'into a passthrough'], { stdio: ['ignore', sink, 'ignore'] });
    const closed = once(p, 'close');
    expect(await p.wait()).toMatchObject({ exitCode: 0, signal: null });
    await closed;
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(chunks).toString()).toBe('into a passthrough\n');
  });

  test("'inherit' writes to the parent's stdout and stderr", async () => {
    // Run a separate Node process so its stdout can be captured.
    const script = `
      const { Container } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib'))});
      (async () => {
        const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true });
        const st = await c.spawn(['sh', '-c', 'echo inherited-out; echo inherited-err >&2'], { stdio: 'inherit' }).wait();
        await c.destroy();
        process.stdout.write('status ' + JSON.stringify({ exitCode: st.exitCode, signal: st.signal }) + '\\n');
      })().catch((e) => { console.error(e); process.exit(1); });
    `;
    const tsx = path.resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const { stdout, stderr } = await promisify(execFile)(tsx, ['-e', script], { timeout: 30000 });
    expect(stdout).toBe('inherited-out\nstatus {"exitCode":0,"signal":null}\n');
    expect(stderr).toBe('inherited-err\n');
  });
});

describe('events and output()', () => {
  test("'spawn', 'exit' and 'close' in order, with pid set at 'spawn'", async () => {
    const p = make().spawn(['sh', '-c', 'echo hi; exit 3'], { stdio: 'pipe' });
    const events: string[] = [];
    let pidAtSpawn: number | undefined;
    p.on('spawn', () => {
      events.push('spawn');
      pidAtSpawn = p.pid;
    });
    p.on('exit', (code, signal) => events.push(`exit ${code} ${signal}`));
    const closed = once(p, 'close');
    p.stdout!.resume();
    p.stderr!.resume();
    expect(await closed).toEqual([3, null]);
    events.push('close');
    expect(events).toEqual(['spawn', 'exit 3 null', 'close']);
    expect(typeof pidAtSpawn).toBe('number');
    expect(pidAtSpawn).toBeGreaterThan(1);
    expect(p.pid).toBe(pidAtSpawn);
  });

  test("'spawn' (and pid) come before the first output, as with ChildProcess", async () => {
    // Many at once, so that the program's output and the start report race.
    const cs = Array.from({ length: 20 }, () => make());
    const order = await Promise.all(
      cs.map(
        (c) =>
          new Promise<string>((resolve) => {
            const p = c.spawn(['echo', 'x'], { stdio: 'pipe' });
            const seen: string[] = [];
            p.on('spawn', () => seen.push('spawn'));
            p.stdout!.once('data', () => seen.push(p.pid === undefined ? 'data (no pid)' : 'data'));
            p.on('close', () => resolve(seen.join(' ')));
          }),
      ),
    );
    expect(order).toEqual(Array(20).fill('spawn data'));
  });

  test("'close' comes after all output was read", async () => {
    const p = make().spawn(['seq', '1', '50000'], { stdio: 'pipe' });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.resume();
    await once(p, 'close');
    expect(out.endsWith('\n50000\n')).toBe(true);
    expect(out.split('\n').length).toBe(50001);
  });

  test("'exit' reports a signal", async () => {
    const p = make().spawn(['sleep', '30'], { stdio: 'ignore' });
    await once(p, 'spawn');
    const exited = once(p, 'exit');
    p.kill('SIGKILL');
    expect(await exited).toEqual([null, 'SIGKILL']);
  });

  test('output() of a failing program', async () => {
    const p = make().spawn(['sh', '-c', 'echo partial; echo oops >&2; exit 9'], { stdio: 'pipe' });
    expect(await p.output()).toMatchObject({ exitCode: 9, signal: null, stdout: 'partial\n', stderr: 'oops\n' });
  });

  test('binary-safe bytes through a pipe', async () => {
    const p = make().spawn(['sh', '-c', 'cat | wc -c; printf "\\001\\002\\377" | od -An -tx1'], { stdio: 'pipe' });
    p.stdin!.end(Buffer.from([0, 1, 2, 255, 0]));
    const r = await p.output();
    expect(r.exitCode).toBe(0);
    const [count, bytes] = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(count).toBe('5');
    expect(bytes).toBe('01 02 ff');
  });
});
