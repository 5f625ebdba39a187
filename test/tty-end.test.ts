/**
 * A terminal session ends with its program: a process the program left behind, which keeps the
 * pty open and writes to it (a NUL every 100 ms) and reads from it (a fake prompt), holds the
 * session open no longer than a short grace period after the exit, and nothing written to the
 * session's stdin after the exit reaches it; `ts-container exec -it` returns and gives the
 * terminal back.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, type ContainerProcess } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';
import { RUN_TAG } from './support/unique';
import { CLI_JS, NODE } from './support/cli';
import { describeWhen, testWhen } from './support/skip';

const rootfs = ensureBusyboxRootfs();
const { make, tempDirs } = useContainers();

function options(extra: ContainerOptions = {}): ContainerOptions {
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tty-end-'));
  tempDirs.push(stateRoot);
  return { rootfs, readonly: true, stateRoot, ...extra };
}

/**
 * Exits at once, leaving behind (immune to the hangup the exit sends) a writer of a NUL every
 * 100 ms and a reader that records each line it reads from the terminal in /tmp/got, and "eof"
 * once the terminal is gone.
 */
const LEAVES_HOLDERS = [
  'sh',
  '-c',
  [
    "trap '' HUP",
    "(while :; do printf '\\0'; sleep 0.1; done) &",
    '(while read line; do echo "got:$line" >> /tmp/got; done; echo eof >> /tmp/got) &',
    'echo started',
    'exit 0',
  ].join('\n'),
];

async function fileInContainer(c: Container, file: string): Promise<string> {
  return (await c.exec(['sh', '-c', `cat ${file} 2>/dev/null || true`]).output()).stdout;
}

async function waitForText(c: Container, file: string, text: string): Promise<string> {
  for (;;) {
    const content = await fileInContainer(c, file);
    if (content.includes(text)) return content;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('an exec with a terminal closes after its program exits, though a process left behind writes to it', async () => {
  const c = make(options());
  await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
  const p: ContainerProcess = c.exec(LEAVES_HOLDERS, { tty: true });
  let output = '';
  p.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
  const exited = new Promise((resolve) => p.once('exit', resolve));
  const closed = new Promise<unknown[]>((resolve) => p.once('close', (...args) => resolve(args)));
  await exited;
  expect(await closed).toEqual([0, null]);
  expect(output).toContain('started');

  // Typed after the session ended: dropped or refused, never read in the container.
  const writeErrors: Error[] = [];
  p.stdin!.on('error', (error) => writeErrors.push(error));
  await new Promise<void>((resolve) => p.stdin!.write('typed-after-close\n', () => resolve()));
  // The terminal is gone for the reader too: it records the end, and nothing it read.
  const got = await waitForText(c, '/tmp/got', 'eof');
  expect(got).toBe('eof\n');
}, 20000);

test('what is typed after the program exits, before the session closes, is not read by a process left behind', async () => {
  const c = make(options());
  await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
  const p = c.exec(LEAVES_HOLDERS, { tty: true });
  p.stdout!.resume();
  p.stdin!.on('error', () => undefined);
  p.once('exit', () => p.stdin!.write('typed-after-exit\n'));
  await new Promise((resolve) => p.once('close', resolve));
  expect(await waitForText(c, '/tmp/got', 'eof')).toBe('eof\n');
}, 20000);

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

testWhen(hasTmux, 'tmux not found (apt-get install tmux)')('exec -it returns, with the terminal back as it was, though the program left such processes behind', async () => {
  const ROOT = path.resolve(__dirname, '..');
  const stateRoot = options().stateRoot as string;
  const socket = `ts-container-tty-end-${process.pid}`;
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const cli = (...args: string[]) => spawnSync(NODE, [CLI_JS, '--root', stateRoot, ...args], { cwd: ROOT, encoding: 'utf8' });
  const id = `tty-end-${RUN_TAG}`;
  try {
    // Read-only: its /tmp is a tmpfs of its own, not the shared test rootfs's.
    expect(cli('run', '-d', '--readonly', '--name', id, '--rootfs', rootfs, '--', 'sleep', '600').status).toBe(0);
    const program = LEAVES_HOLDERS.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const command =
      `${NODE} ${CLI_JS} --root ${stateRoot} exec -it ${id} ${program}; echo "EXEC-EXITED=$?"; ` +
      `stty -a | grep -o -- '-*icanon' | sed 's/^/MODE=/'; sleep 600`;
    tmux('new-session', '-d', '-s', 'tty-end', '-x', '80', '-y', '24', '-c', ROOT, command);
    // Bounded, so that a session that never ends still leaves nothing behind (finally below).
    for (const deadline = Date.now() + 20000; ; ) {
      const text = tmux('capture-pane', '-p', '-t', 'tty-end');
      if (Date.now() > deadline) throw new Error(`exec -it did not return:\n${text}`);
      if (/^MODE=/m.test(text)) {
        expect(text).toMatch(/^EXEC-EXITED=0$/m);
        expect(text).toMatch(/^MODE=icanon$/m);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Typed now, it reaches the pane's own shell; the reader left in the container saw only the end.
    tmux('send-keys', '-t', 'tty-end', 'typed-after-exit', 'Enter');
    const c = await Container.get(id, { stateRoot });
    expect(await waitForText(c, '/tmp/got', 'eof')).toBe('eof\n');
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    cli('delete', '-f', id);
  }
}, 30000);
