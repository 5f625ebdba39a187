/**
 * Pseudo-terminals (the tty option) against the real kernel: the main process and exec'd ones
 * get a pty of the container's devpts as stdin, stdout and stderr and as controlling terminal,
 * /dev/console is the main one, the window size is set and changed, a shell answers what is
 * typed, all output arrives, nothing is left; and `ts-container run -it` and `exec -it` driven by tmux.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ContainerStateError } from '../lib';
import type { ContainerProcess } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { parseCommandLine } from '../lib/cli/program';
import { UsageError } from '../lib/cli/usage-error';
import { execPlan, runPlan } from '../lib/container/plan';
import { normalizeProcessOptions } from '../lib/options/validate';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';
import { assertNothingLeft, snapshot } from './support/leftovers';
import { uniqueId } from './support/unique';
import { CLI_JS, NODE } from './support/cli';
import { describeWhen } from './support/skip';

const rootfs = ensureBusyboxRootfs();
const base: ContainerOptions = { rootfs, readonly: true };
const { make } = useContainers();

/** Everything the process writes to its terminal, as it comes. */
function collect(p: ContainerProcess): { text: () => string; waitFor: (pattern: RegExp, ms?: number) => Promise<string> } {
  let text = '';
  const waiters: { pattern: RegExp; resolve: (s: string) => void }[] = [];
  p.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(text)) w.resolve(text);
      else waiters.push(w);
    }
  });
  return {
    text: () => text,
    waitFor: (pattern, ms = 10000) =>
      new Promise<string>((resolve, reject) => {
        if (pattern.test(text)) return resolve(text);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(text)}`)), ms);
        waiters.push({ pattern, resolve: (s) => (clearTimeout(timer), resolve(s)) });
      }),
  };
}

/** A terminal turns each \n the program writes into \r\n. */
const lines = (text: string): string[] => text.split('\r\n').filter(Boolean);

describe('options', () => {
  test('tty: true is 80x24; a size is taken as given; the default is none', () => {
    expect(new Container({ tty: true }).config.tty).toEqual({ columns: 80, rows: 24 });
    expect(new Container({ tty: { columns: 132, rows: 43 } }).config.tty).toEqual({ columns: 132, rows: 43 });
    expect(new Container({}).config.tty).toBeNull();
    expect(new Container({ tty: false }).config.tty).toBeNull();
  });

  test('the plan carries the terminal and its size; the console only for the first process', () => {
    // With a rootfs: the host-root mode's user namespace takes its ids only at spawn.
    const config = new Container({ ...base, tty: { columns: 100, rows: 30 } }).config;
    const entries = (plan: Buffer): string[] => plan.toString('utf8').split('\0');
    const main = normalizeProcessOptions(['sh'], {}, config, 'main').process;
    const run = entries(runPlan(['sh'], main, config, null, null));
    expect(run).toEqual(expect.arrayContaining(['tty=1', 'tty.columns=100', 'tty.rows=30', 'tty.console=1']));
    const exec = entries(execPlan(['sh'], normalizeProcessOptions(['sh'], { tty: true }, config).process, config, null, null, 1));
    expect(exec).toEqual(expect.arrayContaining(['tty=1', 'tty.columns=80', 'tty.rows=24']));
    expect(exec.some((e) => e.startsWith('tty.console'))).toBe(false);
    // exec() without tty has none, whatever the container's.
    const plain = entries(execPlan(['sh'], normalizeProcessOptions(['sh'], {}, config).process, config, null, null, 1));
    expect(plain.some((e) => e.startsWith('tty'))).toBe(false);
  });

  test('bad sizes and values are TypeErrors naming the option', () => {
    expect(() => new Container({ tty: { columns: 0 } as never })).toThrow(new TypeError('tty.columns: expected an integer 1-65535, got number 0'));
    expect(() => new Container({ tty: { columns: 80, rows: 70000 } })).toThrow(/^tty\.rows: expected an integer 1-65535/);
    expect(() => new Container({ tty: { columns: 80.5, rows: 24 } })).toThrow(/^tty\.columns: /);
    expect(() => new Container({ tty: 'yes' as never })).toThrow(TypeError);
    expect(() => new Container({ tty: 'yes' as never })).toThrow(/^tty: expected true, false or \{ columns, rows \}, got "yes"/);
    expect(() => new Container({ tty: { columns: 80, rows: 24, colour: 1 } as never })).toThrow(/^tty\.colour: unknown option/);
    const c = new Container(base);
    expect(() => c.exec(['true'], { tty: { rows: 24 } as never })).toThrow(/^tty\.columns: /);
  });

  test("a tty process takes no stdio but 'pipe'", () => {
    const message = /^stdio: a tty process takes its stdin and stdout from the terminal/;
    expect(() => make(base).spawn(['true'], { tty: true, stdio: 'inherit' })).toThrow(TypeError);
    expect(() => make(base).spawn(['true'], { tty: true, stdio: 'inherit' })).toThrow(message);
    expect(() => make(base).spawn(['true'], { tty: true, stdio: ['pipe', 'ignore', 'pipe'] })).toThrow(message);
    // The container's tty is the main process's: its stdio is checked against it.
    expect(() => make({ ...base, tty: true }).spawn(['true'], { stdio: 'ignore' })).toThrow(message);
    // exec() gets no terminal unless it asks for one, so any stdio passes validation (and the
    // call then fails only for want of a main process).
    expect(() => new Container({ ...base, tty: true }).exec(['true'], { stdio: 'ignore' })).toThrow(ContainerStateError);
  });

  test('resize needs a terminal and a valid size', async () => {
    const plain = make(base).spawn(['true']);
    expect(plain.isTTY).toBe(false);
    expect(plain.terminalSize).toBeNull();
    expect(() => plain.resize(100, 40)).toThrow(ContainerStateError);
    await plain.output();
    const p = make(base).spawn(['true'], { tty: true });
    expect(p.isTTY).toBe(true);
    expect(p.stderr).toBeNull();
    expect(() => p.resize(0, 40)).toThrow(/^columns: expected an integer 1-65535/);
    expect(() => p.resize(100, 1.5)).toThrow(/^rows: /);
    await p.output();
    // After exit: nothing to resize, and no error.
    expect(() => p.resize(100, 40)).not.toThrow();
  });
});

describe('the main process', () => {
  test('its stdin, stdout and stderr are /dev/pts/0, its controlling terminal', async () => {
    const p = make({ ...base, tty: true }).spawn([
      'sh',
      '-c',
      'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-terminals; echo to-stderr >&2; ' +
        'readlink /proc/self/fd/0; readlink /proc/self/fd/2; cut -d" " -f7 /proc/self/stat',
    ]);
    const out = await p.output();
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toBe('');
    const [tty, all, stderr, fd0, fd2, ttyNr] = lines(out.stdout);
    expect([tty, all, stderr, fd0, fd2]).toEqual(['/dev/pts/0', 'all-terminals', 'to-stderr', '/dev/pts/0', '/dev/pts/0']);
    // tty_nr of /proc/<pid>/stat: the controlling terminal's device, 136:0 (pts/0).
    expect(Number(ttyNr)).toBe((136 << 8) | 0);
  });

  test('/dev/console is the same terminal', async () => {
    const p = make({ ...base, tty: true }).spawn([
      'sh',
      '-c',
      'stat -c "%F %t:%T" /dev/console /dev/pts/0; echo through-the-console > /dev/console',
    ]);
    const out = await p.output();
    expect(lines(out.stdout)).toEqual(['character special file 88:0', 'character special file 88:0', 'through-the-console']);
  });

  test('the terminal has the size asked for, and resize() changes it', async () => {
    const p = make({ ...base, tty: { columns: 120, rows: 50 } }).spawn(['sh', '-c', 'stty size; read line; stty size']);
    const out = collect(p);
    await out.waitFor(/50 120\r\n/);
    expect(p.terminalSize).toEqual({ columns: 120, rows: 50 });
    p.resize(100, 40);
    expect(p.terminalSize).toEqual({ columns: 100, rows: 40 });
    p.stdin!.write('\n');
    await out.waitFor(/40 100\r\n/);
    expect((await p.wait()).exitCode).toBe(0);
  });

  test('the program gets SIGWINCH when the size changes', async () => {
    const p = make({ ...base, tty: true }).spawn(['sh', '-c', 'trap "stty size; exit 0" WINCH; echo ready; while :; do sleep 0.05; done']);
    const out = collect(p);
    await out.waitFor(/ready/);
    p.resize(90, 30);
    await out.waitFor(/30 90\r\n/);
    expect((await p.wait()).exitCode).toBe(0);
  });

  test('a shell answers a typed command', async () => {
    const p = make({ ...base, tty: true }).spawn(['sh']);
    const out = collect(p);
    const closed = once(p, 'close');
    p.stdin!.write('echo $((6*7))\n');
    // The terminal echoes the command, then the shell's answer comes on its own line.
    await out.waitFor(/\r\n42\r\n/);
    p.stdin!.write('exit 4\n');
    const status = await p.wait();
    expect(status.exitCode).toBe(4);
    await closed;
    expect(out.text()).toContain('echo $((6*7))');
  });

  test('^C reaches the foreground job through the terminal', async () => {
    const p = make({ ...base, tty: true }).spawn(['sh']);
    const out = collect(p);
    p.stdin!.write('sleep 100 && echo slept\n');
    await new Promise((r) => setTimeout(r, 300));
    p.stdin!.write('\x03');
    p.stdin!.write('echo after-$((1+2))\n');
    await out.waitFor(/\r\nafter-3\r\n/);
    expect(lines(out.text())).not.toContain('slept');
    p.stdin!.write('exit\n');
    await p.wait();
  });

  test('stdin.end() types ^D: end of input', async () => {
    const p = make({ ...base, tty: true }).spawn(['sh', '-c', 'cat; echo cat-done']);
    p.stdin!.end('typed\n');
    const out = await p.output();
    expect(out.exitCode).toBe(0);
    // Once echoed by the terminal, once written back by cat.
    expect(lines(out.stdout)).toEqual(['typed', 'typed', 'cat-done']);
  });

  test('all output arrives, however much, and output before "spawn" is held', async () => {
    const p = make({ ...base, tty: true }).spawn(['seq', '1', '30000']);
    let spawned = false;
    let dataBeforeSpawn = false;
    p.once('spawn', () => (spawned = true));
    p.stdout!.on('data', () => (dataBeforeSpawn ||= !spawned));
    const out = await p.output();
    expect(dataBeforeSpawn).toBe(false);
    const all = lines(out.stdout);
    expect(all.length).toBe(30000);
    expect(all[29999]).toBe('30000');
  });

  test("'close' comes after 'exit', once the output is read and the master closed", async () => {
    const p = make({ ...base, tty: true }).spawn(['sh', '-c', 'echo bye; exit 3']);
    const events: string[] = [];
    p.on('exit', () => events.push('exit'));
    p.stdout!.on('data', () => undefined);
    p.stdout!.on('end', () => events.push('end'));
    const [code] = await once(p, 'close');
    events.push('close');
    expect(code).toBe(3);
    expect(events.indexOf('close')).toBe(2);
    expect(events.slice(0, 2).sort()).toEqual(['end', 'exit']);
  });

  test('the container user owns its terminal, with a user namespace too', async () => {
    const asUser = await make({ ...base, tty: true, user: { uid: 1000, gid: 1000 } })
      .spawn(['sh', '-c', 'id -u; stat -c %u $(tty)'])
      .output();
    expect(lines(asUser.stdout)).toEqual(['1000', '1000']);
    const userns = await make({ ...base, tty: true, userns: true }).spawn(['sh', '-c', 'tty; stty size']).output();
    expect(lines(userns.stdout)).toEqual(['/dev/pts/0', '24 80']);
  });

  test('with init, the program still has the terminal', async () => {
    const out = await make({ ...base, tty: true, init: true }).spawn(['sh', '-c', 'tty; [ -t 0 ] && echo yes']).output();
    expect(lines(out.stdout)).toEqual(['/dev/pts/0', 'yes']);
  });

  test("spawn()'s own tty option wins over the container's", async () => {
    const none = await make({ ...base, tty: true }).spawn(['sh', '-c', '[ -t 1 ] || echo no-tty'], { tty: false }).output();
    expect(none.stdout).toBe('no-tty\n');
    const sized = await make({ ...base, tty: true }).spawn(['stty', 'size'], { tty: { columns: 33, rows: 11 } }).output();
    expect(sized.stdout).toBe('11 33\r\n');
  });
});

describe('exec', () => {
  test('an exec with tty gets its own terminal and size', async () => {
    const c = make({ ...base, tty: true });
    const main = c.spawn(['sleep', '1000']);
    await once(main, 'spawn');
    const out = await c.exec(['sh', '-c', 'tty; stty size; [ -t 0 ] && echo yes'], { tty: { columns: 70, rows: 20 } }).output();
    expect(out.exitCode).toBe(0);
    const [pts, size, yes] = lines(out.stdout);
    expect(pts).toMatch(/^\/dev\/pts\/[1-9]\d*$/);
    expect([size, yes]).toEqual(['20 70', 'yes']);
  });

  test('an exec without tty gets pipes, even when the main process has a terminal', async () => {
    const c = make({ ...base, tty: true });
    const main = c.spawn(['sleep', '1000']);
    await once(main, 'spawn');
    const p = c.exec(['sh', '-c', '[ -t 1 ] || echo piped; echo err >&2']);
    expect(p.isTTY).toBe(false);
    expect(await p.output()).toMatchObject({ exitCode: 0, stdout: 'piped\n', stderr: 'err\n' });
  });

  test('a shell exec answers what is typed, and resize reaches it', async () => {
    const c = make({ ...base, tty: true });
    const main = c.spawn(['sleep', '1000']);
    await once(main, 'spawn');
    const p = c.exec(['sh'], { tty: true });
    const out = collect(p);
    p.stdin!.write('echo exec-$((2*21))\n');
    await out.waitFor(/\r\nexec-42\r\n/);
    p.resize(111, 22);
    p.stdin!.write('stty size\n');
    await out.waitFor(/\r\n22 111\r\n/);
    p.stdin!.end('exit\n');
    expect((await p.wait()).exitCode).toBe(0);
  });
});

describe('nothing leaks', () => {
  test('no fd, mount or process is left once a container with terminals is destroyed', async () => {
    // Warm up: the first container opens long-lived handles (the addon, the helper's copy).
    const warm = new Container(base);
    await warm.spawn(['true']).output();
    await warm.destroy();
    const before = snapshot();
    const c = new Container({ ...base, tty: true });
    const main = c.spawn(['sh']);
    collect(main);
    await once(main, 'spawn');
    const done = await c.exec(['tty'], { tty: true }).output();
    expect(done.exitCode).toBe(0);
    // One left running, one whose output nobody reads.
    const running = c.exec(['sh'], { tty: true });
    running.stdin!.write('echo still-here\n');
    await once(running, 'spawn');
    c.exec(['seq', '1', '100000'], { tty: true });
    await c.destroy();
    await assertNothingLeft(before);
  });
});

describe('command line', () => {
  test('-t gives the command a terminal, -i passes the keys; they go together as -it', () => {
    expect(parseCommandLine(['run', '-t', '--', 'sh'])).toMatchObject({ kind: 'run', options: { tty: true }, argv: ['sh'] });
    expect(parseCommandLine(['run', '-t', 'sh'])).not.toHaveProperty('interactive');
    for (const flags of [['-it'], ['-ti'], ['-i', '-t'], ['--interactive', '--tty']]) {
      expect(parseCommandLine(['run', ...flags, '--', 'sh'])).toMatchObject({ options: { tty: true }, interactive: true, argv: ['sh'] });
    }
    // -i alone: stdin is passed anyway; no terminal.
    const i = parseCommandLine(['run', '-i', 'cat']);
    expect(i).toMatchObject({ interactive: true });
    expect((i as { options: object }).options).not.toHaveProperty('tty');
  });

  test('a group of short flags: switches, the last of them may take a value (as in exec)', () => {
    expect(() => parseCommandLine(['run', '-ix', 'sh'])).toThrow(/unknown flag '-x'/);
    expect(parseCommandLine(['run', '-ie', 'A=1', '--', 'sh'])).toMatchObject({ interactive: true, options: { env: { A: '1' } }, argv: ['sh'] });
    expect(parseCommandLine(['run', '-iteA=1', 'sh'])).toMatchObject({ interactive: true, options: { tty: true, env: { A: '1' } } });
    expect(() => parseCommandLine(['run', '-it=1', 'sh'])).toThrow(UsageError);
  });
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const e2e = describeWhen(hasTmux, 'tmux not found (apt-get install tmux)');

e2e('ts-container run -it in a real terminal (tmux)', () => {
  const ROOT = path.resolve(__dirname, '..');
  // A server of its own: the test neither sees nor touches anyone's tmux sessions.
  const socket = `ts-container-tty-test-${process.pid}`;
  const tmux = (...args: string[]): string => {
    const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'tty-test');
  const waitForScreen = async (pattern: RegExp, ms = 20000): Promise<string> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  afterAll(() => {
    // The server leaves its socket file behind: asked for its path first, removed after.
    const socketPath = spawnSync('tmux', ['-L', socket, 'display-message', '-p', '#{socket_path}'], { encoding: 'utf8' }).stdout.trim();
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    if (socketPath) fs.rmSync(socketPath, { force: true });
  });

  test('a shell answers typed commands, sees the pane size and its changes, and the terminal comes back', async () => {
    const command =
      `${NODE} ${CLI_JS} run --rm -it --rootfs ${rootfs} -- sh; echo "EXITED=$?"; ` +
      // Raw mode must be undone: the pane's own terminal is canonical again.
      `stty -a | grep -o -- '-*icanon' | sed 's/^/MODE=/'; sleep 600`;
    tmux('new-session', '-d', '-s', 'tty-test', '-x', '80', '-y', '24', '-c', ROOT, command);
    await waitForScreen(/^\/ #/m);
    tmux('send-keys', '-t', 'tty-test', 'echo hi-$((1+1))', 'Enter');
    await waitForScreen(/^hi-2$/m);
    tmux('send-keys', '-t', 'tty-test', 'stty size', 'Enter');
    await waitForScreen(/^24 80$/m);
    tmux('resize-window', '-t', 'tty-test', '-x', '100', '-y', '30');
    // The new size travels from tmux to the CLI (SIGWINCH) and on to the container's terminal
    // (resize()), each in its own time on a loaded machine: asked again until it has arrived.
    for (const deadline = Date.now() + 20000; ; ) {
      tmux('send-keys', '-t', 'tty-test', 'clear; stty size', 'Enter');
      const arrived = await waitForScreen(/^30 100$/m, 1000).then(() => true, () => false);
      if (arrived) break;
      if (Date.now() > deadline) throw new Error(`the new size never reached the container:\n${screen()}`);
    }
    tmux('send-keys', '-t', 'tty-test', 'sleep 100', 'Enter');
    await new Promise((r) => setTimeout(r, 500));
    tmux('send-keys', '-t', 'tty-test', 'C-c');
    tmux('send-keys', '-t', 'tty-test', 'echo after-$((3*3))', 'Enter');
    await waitForScreen(/^after-9$/m);
    tmux('send-keys', '-t', 'tty-test', 'exit 7', 'Enter');
    const text = await waitForScreen(/^MODE=/m);
    expect(text).toMatch(/^EXITED=7$/m);
    expect(text).toMatch(/^MODE=icanon$/m);
  });

  test('exec -it into a detached container: its own terminal, the pane size, the exit status', async () => {
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-tty-exec-'));
    const cli = (...args: string[]) => spawnSync(NODE, [CLI_JS, '--root', stateRoot, ...args], { cwd: ROOT, encoding: 'utf8' });
    const id = uniqueId('tty-exec');
    try {
      expect(cli('run', '-d', '--name', id, '--rootfs', rootfs, '--', 'sleep', '600').status).toBe(0);
      const command = `${NODE} ${CLI_JS} --root ${stateRoot} exec -it ${id} sh; echo "EXEC-EXITED=$?"; sleep 600`;
      tmux('new-session', '-d', '-s', 'exec-test', '-x', '90', '-y', '20', '-c', ROOT, command);
      const screenOf = (): string => tmux('capture-pane', '-p', '-t', 'exec-test');
      const waitFor = async (pattern: RegExp): Promise<string> => {
        const deadline = Date.now() + 20000;
        for (;;) {
          const text = screenOf();
          if (pattern.test(text)) return text;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the screen:\n${text}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await waitFor(/^\/ #/m);
      tmux('send-keys', '-t', 'exec-test', 'echo host-$(hostname)', 'Enter');
      await waitFor(new RegExp(`^host-${id}$`, 'm'));
      tmux('send-keys', '-t', 'exec-test', 'tty; stty size', 'Enter');
      const sized = await waitFor(/^20 90$/m);
      // Its own pts: the main process has none (it is detached without -t).
      expect(sized).toMatch(/^\/dev\/pts\/\d+$/m);
      tmux('send-keys', '-t', 'exec-test', 'exit 3', 'Enter');
      await waitFor(/^EXEC-EXITED=3$/m);
      // The container runs on after the exec'd shell.
      expect(JSON.parse(cli('state', id).stdout)).toMatchObject({ status: 'running' });
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-session', '-t', 'exec-test']);
      cli('delete', '-f', id);
      fs.rmSync(stateRoot, { recursive: true, force: true });
    }
  });
});
