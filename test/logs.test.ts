/**
 * A detached container's log (issue 9, items 8 and 9): it is capped and rotated (default
 * 10m x 3 files; `log: { maxSize, maxFiles }`, CLI `--log-opt`), reading walks the rotated
 * files in order and `follow` goes on across rotations, output the monitor could not write is
 * marked by a "dropped" record, and `ts-container logs` shows control characters escaped on
 * a terminal (the container's bytes must not drive the user's terminal) unless --raw.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import { logsCommand } from '../lib/cli/commands/logs';
import { ControlEscaper } from '../lib/cli/commands/escape-controls';
import type { CommandIO } from '../lib/cli/commands/common';
import { parseCommandLine } from '../lib/cli/program';
import { UsageError } from '../lib/cli/usage-error';
import type { LogRecord } from '../lib/state/types';
import { CLI_JS, NODE } from './support/cli';
import { testWhen } from './support/skip';
import { waitForFile } from './support/node-script';

const ROOT = path.resolve(__dirname, '..');
const MiB = 1024 * 1024;

const made: Container[] = [];
const tempDirs: string[] = [];

function make(options: ConstructorParameters<typeof Container>[0] = {}): Container {
  const c = new Container({ stateRoot, detach: true, ...options });
  made.push(c);
  return c;
}

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** The whole log, read once the monitor has written the last of it and gone (follow ends then). */
async function records(c: Container): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const record of c.logs({ follow: true })) all.push(record);
  return all;
}

const stdoutOf = (all: LogRecord[]): string => Buffer.concat(all.filter((r) => r.stream === 'stdout').map((r) => r.data)).toString();

/** The log files in the container's state directory, with their sizes. */
function logFiles(stateDir: string): Record<string, number> {
  const files: Record<string, number> = {};
  for (const name of fs.readdirSync(stateDir)) {
    if (name.startsWith('container.log')) files[name] = fs.statSync(path.join(stateDir, name)).size;
  }
  return files;
}

// Removed after the file, with the test's other directories.
const stateRoot = tempDir('tsc-logs-');

afterEach(() => Promise.all(made.splice(0).map((c) => c.destroy().catch(() => undefined))));
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

describe('capped and rotated', () => {
  test('30 MB written with maxSize 1m, maxFiles 2: at most 2 MiB kept, the newest output, no gap in it', async () => {
    const c = make({ log: { maxSize: '1m', maxFiles: 2 } });
    c.spawn(['seq', '1', '4000000']);
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const lines = stdoutOf(await records(c)).split('\n');
    const files = logFiles(path.join(stateRoot, c.id));
    expect(Object.keys(files).sort()).toEqual(['container.log', 'container.log.1']);
    for (const size of Object.values(files)) expect(size).toBeLessThanOrEqual(MiB);
    // The oldest kept frame may start inside a line; every line after it follows the one before.
    lines.shift();
    expect(lines.pop()).toBe('');
    expect(lines[lines.length - 1]).toBe('4000000');
    const first = Number(lines[0]);
    expect(lines.length).toBeGreaterThan(100000);
    expect(lines.every((line, i) => Number(line) === first + i)).toBe(true);
  });

  test('the default keeps 3 files of 10 MiB', async () => {
    const c = make();
    c.spawn(['sh', '-c', 'head -c 40000000 /dev/zero']);
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    expect(stdoutOf(await records(c)).length).toBeGreaterThan(20 * MiB);
    const files = logFiles(path.join(stateRoot, c.id));
    expect(Object.keys(files).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const size of Object.values(files)) expect(size).toBeLessThanOrEqual(10 * MiB);
  });

  test('follow reads every line in order while the log is rotated under it', async () => {
    const gates = tempDir('tsc-logs-gate-');
    const c = make({ log: { maxSize: '64k', maxFiles: 2 }, mounts: [{ type: 'bind', source: gates, target: '/gate', readonly: true }] });
    // Six chunks of about 40 KB: the log is rotated every one or two of them, and a file is
    // removed from the third rotation on. Each chunk waits for the reader to have seen the
    // one before, so the reader is never more than a chunk behind (as a reader that keeps up).
    c.spawn(['sh', '-c', 'i=0; while [ $i -lt 6 ]; do seq -f "c$i-%g" 1 5000; while [ ! -e /gate/$i ]; do sleep 0.02; done; i=$((i+1)); done']);
    let text = '';
    let gate = 0;
    for await (const record of c.logs({ follow: true })) {
      text += record.data.toString();
      while (gate < 6 && text.includes(`c${gate}-5000\n`)) fs.writeFileSync(path.join(gates, String(gate++)), '');
    }
    const expected: string[] = [];
    for (let chunk = 0; chunk < 6; chunk++) for (let n = 1; n <= 5000; n++) expected.push(`c${chunk}-${n}`);
    expect(text).toBe(expected.join('\n') + '\n');
    // What the reader saw first is gone from the disk: it read across rotations.
    const kept = stdoutOf(await records(c));
    expect(kept.startsWith('c0-1\n')).toBe(false);
    expect(kept.endsWith('c5-5000\n')).toBe(true);
  });

  test('bad log options are TypeErrors that name the option', () => {
    expect(() => new Container({ detach: true, log: { maxSize: '1k' } })).toThrow(/log\.maxSize: .*at least 64k/);
    expect(() => new Container({ detach: true, log: { maxFiles: 0 } })).toThrow(/log\.maxFiles/);
    expect(() => new Container({ detach: true, log: { maxAge: 3 } as never })).toThrow(/log\.maxAge: unknown option/);
  });

  test('CLI: run -d --log-opt max-size=...,max-file=...', () => {
    expect(parseCommandLine(['run', '-d', '--log-opt', 'max-size=1m,max-file=2', 'true'])).toMatchObject({
      options: { detach: true, log: { maxSize: '1m', maxFiles: 2 } },
    });
    expect(parseCommandLine(['create', '--log-opt', 'max-size=5m', '--log-opt', 'max-file=4', 'true'])).toMatchObject({
      options: { log: { maxSize: '5m', maxFiles: 4 } },
    });
    expect(() => parseCommandLine(['run', '-d', '--log-opt', 'compress=true', 'true'])).toThrow(UsageError);
    expect(() => parseCommandLine(['run', '-d', '--log-opt', 'max-file=zero', 'true'])).toThrow(/max-file/);
  });
});

describe('follow of a run that ends at once', () => {
  test('gets the last output even when the program exits before its monitor has logged anything', async () => {
    // The monitor is held right after it told Node of the run, before it reads any output:
    // the program prints and exits meanwhile, and the container shows as stopped. A follow
    // begun then must wait for the monitor (which has yet to log the output), not end empty.
    const pauses = tempDir('tsc-logs-pause-');
    const pauseFile = path.join(pauses, 'paused');
    process.env.TS_CONTAINER_TEST_PAUSE_AT = 'helper:monitor-reported';
    process.env.TS_CONTAINER_TEST_PAUSE_FILE = pauseFile;
    const c = make();
    try {
      await c.create(['sh', '-c', 'echo last words; echo to stderr >&2']);
    } finally {
      delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
      delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
    }
    await waitForFile(pauseFile);
    await c.start();
    while ((await c.state()).status !== 'stopped') await new Promise((resolve) => setTimeout(resolve, 10));
    const reading = records(c);
    // The follow is under way (it has looked at the state at least once) before the monitor goes on.
    await new Promise((resolve) => setTimeout(resolve, 200));
    fs.writeFileSync(`${pauseFile}.resume`, 'x');
    const all = await reading;
    expect(stdoutOf(all)).toBe('last words\n');
    expect(Buffer.concat(all.filter((r) => r.stream === 'stderr').map((r) => r.data)).toString()).toBe('to stderr\n');
  });
});

describe('output that cannot be written', () => {
  let mountPoint: string | undefined;
  afterEach(async () => {
    // The container (its monitor holds the log open) goes first, then the tmpfs under it.
    await Promise.all(made.splice(0).map((c) => c.destroy().catch(() => undefined)));
    if (mountPoint) execFileSync('umount', [mountPoint]);
    mountPoint = undefined;
  });

  test('a full disk: a "dropped" record says how much was lost, and logging goes on after', async () => {
    // A state root on a 1 MiB tmpfs, 600 KiB of it taken by a filler file.
    mountPoint = tempDir('tsc-logs-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=700', 'tmpfs', mountPoint]);
    const root = path.join(mountPoint, 'state');
    const filler = path.join(mountPoint, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(600 * 1024));
    const gates = tempDir('tsc-logs-gate-');
    const c = new Container({ stateRoot: root, detach: true, mounts: [{ type: 'bind', source: gates, target: '/gate' }] });
    made.push(c);
    // The disk fills only once the start is recorded (state.json needs room too).
    const p = c.spawn(['sh', '-c', 'while [ ! -e /gate/begin ]; do sleep 0.02; done; head -c 1000000 /dev/zero; touch /gate/written; while [ ! -e /gate/go ]; do sleep 0.02; done; echo after']);
    await p.started;
    fs.writeFileSync(path.join(gates, 'begin'), '');
    // Once head has written its megabyte, the monitor has read all of it but what a pipe holds
    // (64 KiB): far more than the 424 KiB the disk had room for, so some of it was dropped.
    const written = async (): Promise<boolean> => {
      for (let i = 0; i < 1000 && !fs.existsSync(path.join(gates, 'written')); i++) await new Promise((r) => setTimeout(r, 20));
      return fs.existsSync(path.join(gates, 'written'));
    };
    expect(await written()).toBe(true);
    fs.rmSync(filler);
    fs.writeFileSync(path.join(gates, 'go'), '');
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const all = await records(c);
    const dropped = all.filter((r) => r.stream === 'dropped');
    expect(dropped.length).toBeGreaterThanOrEqual(1);
    const lost = dropped.reduce((sum, r) => sum + (r.droppedBytes ?? 0), 0);
    const out = stdoutOf(all);
    // Every byte is in the log or counted as dropped.
    expect(out.length + lost).toBe(1000000 + 'after\n'.length);
    expect(lost).toBeGreaterThan(0);
    expect(out.endsWith('after\n')).toBe(true);
    // The CLI says so on stderr, where it happened.
    const stderr: string[] = [];
    const io: CommandIO = { stdout: { write: () => true }, stderr: { write: (t) => stderr.push(String(t)) }, signals: new EventEmitter() };
    expect(await logsCommand({ kind: 'logs', id: c.id, follow: false, raw: false, stateRoot: root }, io)).toBe(0);
    expect(stderr.join('')).toContain(`ts-container: ${dropped[0].droppedBytes} bytes of output were dropped here`);
    await c.destroy();
  });
});

describe('ts-container logs on a terminal', () => {
  // A window title, a clipboard write (OSC 52), a screen clear, a C1 CSI, then text.
  const hostile = "printf '\\033]0;pwned-title\\007\\033]52;c;cHduZWQ=\\007\\033[2J\\302\\233Hplain\\tline\\n'";
  const escaped = '\\x1b]0;pwned-title\\x07\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\x9bHplain\tline\n';
  const raw = '\x1b]0;pwned-title\x07\x1b]52;c;cHduZWQ=\x07\x1b[2J\u009bHplain\tline\n';

  async function hostileContainer(): Promise<Container> {
    const c = make();
    c.spawn(['sh', '-c', hostile]);
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    await records(c);
    return c;
  }

  /** Runs logsCommand with a stdout that says whether it is a terminal. */
  async function logsTo(id: string, isTTY: boolean, extra: { raw?: boolean } = {}): Promise<string> {
    const chunks: Buffer[] = [];
    const stdout = { isTTY, write: (s: string | Uint8Array) => chunks.push(Buffer.from(s)) };
    const io: CommandIO = { stdout, stderr: { write: () => true }, signals: new EventEmitter() };
    const status = await logsCommand({ kind: 'logs', id, follow: false, raw: extra.raw ?? false, stateRoot }, io);
    expect(status).toBe(0);
    return Buffer.concat(chunks).toString();
  }

  test('on a terminal the control characters are escaped; a pipe or --raw gets the bytes', async () => {
    const c = await hostileContainer();
    expect(await logsTo(c.id, true)).toBe(escaped);
    expect(await logsTo(c.id, false)).toBe(raw);
    expect(await logsTo(c.id, true, { raw: true })).toBe(raw);
  });

  test('the escaper keeps UTF-8 and "\\r\\n" whole across chunks, and escapes a lone \\r', () => {
    const escaper = new ControlEscaper();
    const bytes = Buffer.from('é ok\r\nover\rwrite\r', 'utf8');
    // One byte at a time: the worst split there is.
    const shown = [...bytes].map((b) => escaper.write(Uint8Array.of(b))).join('') + escaper.end();
    expect(shown).toBe('é ok\r\nover\\x0dwrite\\x0d');
  });

  const hasTmux = spawnSync('tmux', ['-V']).status === 0;
  testWhen(hasTmux, 'tmux not found (apt-get install tmux)')('in tmux: the pane title stays, the escapes show as text; --raw lets them through', async () => {
    const c = await hostileContainer();
    const socket = `ts-container-logs-test-${process.pid}`;
    const tmux = (...args: string[]): string => {
      const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const paneWhenDone = async (session: string): Promise<{ title: string; screen: string }> => {
      for (let i = 0; i < 300; i++) {
        const screen = tmux('capture-pane', '-p', '-t', session);
        if (screen.includes('LOGS-DONE')) return { title: tmux('display-message', '-p', '-t', session, '#{pane_title}').trim(), screen };
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`logs never finished in ${session}: ${tmux('capture-pane', '-p', '-t', session)}`);
    };
    const logsIn = (session: string, flags: string): void => {
      const command = `${NODE} ${CLI_JS} --root ${stateRoot} logs ${flags} ${c.id}; echo LOGS-DONE; sleep 600`;
      tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '20', '-c', ROOT, command);
      tmux('set-option', '-t', session, 'allow-rename', 'on');
    };
    try {
      logsIn('escaped', '');
      const safe = await paneWhenDone('escaped');
      expect(safe.title).not.toBe('pwned-title');
      expect(safe.screen).toContain('\\x1b]0;pwned-title\\x07\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\x9bHplain');
      // The test would see an attack: with --raw the same bytes do set the title.
      logsIn('raw', '--raw');
      const obeyed = await paneWhenDone('raw');
      expect(obeyed.title).toBe('pwned-title');
    } finally {
      const socketPath = spawnSync('tmux', ['-L', socket, 'display-message', '-p', '#{socket_path}'], { encoding: 'utf8' }).stdout.trim();
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      if (socketPath) fs.rmSync(socketPath, { force: true });
    }
  });
});
