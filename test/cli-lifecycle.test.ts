/**
 * The lifecycle commands of the `ts-container` CLI end to end, as a user runs them: real
 * detached containers in a state directory of this file's own (--root), each test deleting
 * what it made. Needs root and the built addon and helper. Parsing is tested in
 * cli-unit/parse.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerListEntry, ContainerState } from '../lib/state/types';
import { ContainerNotFoundError, ContainerStateError, ContainerStoppedError } from '../lib/errors/errors';
import { forEachId, reportFailure, type CommandIO } from '../lib/cli/commands/common';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { uniqueId } from './support/unique';
import { CLI_JS, NODE } from './support/cli';

const ROOT = path.resolve(__dirname, '..');


interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

let stateRoot: string;

/** The CLI with this file's --root, run to its end. */
function cli(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(NODE, [CLI_JS, '--root', stateRoot, ...args], {
    cwd: ROOT,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: 40000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI, expected to succeed: its stdout. */
function ok(args: string[]): string {
  const r = cli(args);
  if (r.status !== 0) throw new Error(`ts-container ${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

function listJson(): ContainerListEntry[] {
  return JSON.parse(ok(['list', '--json'])) as ContainerListEntry[];
}

function stateOf(id: string): ContainerState {
  return JSON.parse(ok(['state', id])) as ContainerState;
}

/** The row of `list` for `id`, split into its columns (three spaces or more between them). */
function listRow(id: string): Record<string, string> | undefined {
  const [header, ...rows] = ok(['list']).trimEnd().split('\n');
  const names = header.split(/\s{3,}/);
  const row = rows.map((r) => r.split(/\s{3,}/)).find((cells) => cells[0] === id);
  return row && Object.fromEntries(names.map((n, i) => [n, row[i] ?? '']));
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A main process that exits with `code` on SIGTERM, and prints `line` first. */
const politeLoop = (line: string, code: number): string[] => [
  'sh', '-c', `trap "exit ${code}" TERM; echo ${line}; echo ${line}-err >&2; while :; do sleep 0.1; done`,
];

describe('exit statuses of the lifecycle commands (no containers)', () => {
  const io = (): CommandIO & { err: string } => {
    const out = { err: '', stdout: { write: () => true }, signals: process, stderr: { write: (s: string | Uint8Array) => (out.err += String(s)) } };
    return out;
  };

  test('reportFailure: 1 for an unknown id or a wrong state, 125 for the rest', () => {
    const a = io();
    expect(reportFailure(a, 'x', new ContainerNotFoundError('x', '/run/ts-container'))).toBe(1);
    expect(a.err).toBe('ts-container: no such container: x\n');
    const b = io();
    expect(reportFailure(b, 'x', new ContainerStoppedError('x', 'pause'))).toBe(1);
    expect(b.err).toBe('ts-container: container x: cannot pause: its main process has exited\n');
    expect(reportFailure(io(), 'x', new ContainerStateError('busy'))).toBe(1);
    const c = io();
    expect(reportFailure(c, 'x', new Error('EACCES: permission denied, open state.json'))).toBe(125);
    expect(c.err).toBe('ts-container: EACCES: permission denied, open state.json\n');
  });

  test('forEachId: every id is tried; the status is the first failure\'s', async () => {
    const a = io();
    const done: string[] = [];
    const status = await forEachId(a, ['a', 'b', 'c'], async (id) => {
      if (id === 'a') throw new ContainerNotFoundError(id, '/r');
      if (id === 'b') throw new Error('disk on fire');
      done.push(id);
    });
    expect(status).toBe(1);
    expect(done).toEqual(['c']);
    expect(a.err).toBe('ts-container: no such container: a\nts-container: disk on fire\n');
  });
});

describe('ts-container lifecycle commands (real containers)', () => {
  const made = new Set<string>();
  /** Remembers an id for cleanup whatever the test's outcome. */
  const track = (name: string): string => {
    // Unique per run: the CLI has no cgroup parent flag, and a fixed id collides in the
    // host-wide cgroup tree with another run's container of that name.
    const id = uniqueId(name);
    made.add(id);
    return id;
  };

  beforeAll(() => {
    stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-lifecycle-'));
  });
  afterEach(() => {
    if (made.size > 0) cli(['delete', '-f', ...made]);
    made.clear();
  });
  afterAll(() => {
    // Whatever a failed test left: kill it through the CLI before removing the directory.
    const left = cli(['list', '-q']).stdout.split('\n').filter(Boolean);
    if (left.length > 0) cli(['delete', '-f', ...left]);
    fs.rmSync(stateRoot, { recursive: true, force: true });
  });

  test('run -d, list, exec, ps, state, logs, stop, delete', async () => {
    const id = track('web');
    const run = cli(['run', '-d', '--name', id, '--', ...politeLoop('hello', 3)]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`${id}\n`);
    expect(run.status).toBe(0);

    // list: running, with the pid of a live process.
    const row = listRow(id);
    expect(row).toMatchObject({ ID: id, ROOTFS: 'host /', STATUS: 'running' });
    expect(row?.COMMAND).toMatch(/^sh -c 'trap/);
    expect(row?.CREATED).toMatch(/^(just now|\d+ seconds? ago)$/);
    const entry = listJson().find((e) => e.id === id);
    expect(entry).toMatchObject({ id, status: 'running', detached: true });
    const pid = (entry as ContainerState).pid;
    expect(pid).toBeGreaterThan(0);
    expect(row?.PID).toBe(String(pid));
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    expect(ok(['list', '-q']).split('\n')).toContain(id);

    // exec: inside the container (its hostname is its id), the program's exit status.
    expect(cli(['exec', id, 'hostname'])).toEqual({ status: 0, stdout: `${id}\n`, stderr: '' });
    expect(cli(['exec', '-e', 'X=from exec', id, 'sh', '-c', 'echo "$X"; exit 7'])).toMatchObject({ status: 7, stdout: 'from exec\n' });
    const notFound = cli(['exec', id, 'no-such-program-xyz']);
    expect(notFound.status).toBe(127);
    expect(notFound.stderr).toContain('no-such-program-xyz');

    // top: the main process and its sleep.
    const ps = ok(['top', id]).trimEnd().split('\n');
    expect(ps[0]).toMatch(/^PID\s+COMMAND$/);
    expect(ps.some((l) => l.startsWith(`${pid} `) && l.includes('sh -c'))).toBe(true);
    const psJson = JSON.parse(ok(['top', '--json', id])) as { pid: number; command: string }[];
    expect(psJson.map((p) => p.pid)).toContain(pid);

    // state: the OCI fields.
    expect(stateOf(id)).toMatchObject({ ociVersion: expect.any(String), id, status: 'running', pid });

    // logs: each stream to its own.
    const logs = await waitFor('the logged output', () => {
      const r = cli(['logs', id]);
      return r.stdout === 'hello\n' && r.stderr === 'hello-err\n' ? r : undefined;
    });
    expect(logs.status).toBe(0);

    // stop: SIGTERM, which the trap turns into exit 3.
    expect(cli(['stop', '-t', '10', id])).toEqual({ status: 0, stdout: `${id}\n`, stderr: '' });
    expect(listRow(id)).toMatchObject({ STATUS: 'stopped (exit 3)', PID: '-' });
    expect(stateOf(id)).toMatchObject({ status: 'stopped', pid: 0, exitCode: 3 });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);

    // delete: gone from the list.
    expect(cli(['delete', id])).toEqual({ status: 0, stdout: `${id}\n`, stderr: '' });
    expect(listJson().map((e) => e.id)).not.toContain(id);
  });

  test('exec: -i passes stdin, -t gives a terminal, -u/-w/-e set the process up', () => {
    const id = track('execer');
    ok(['run', '-d', '--init', '--name', id, '--', 'sleep', '1000']);
    const piped = spawnSync(NODE, [CLI_JS, '--root', stateRoot, 'exec', '-i', id, 'cat'], { cwd: ROOT, input: 'typed\n', encoding: 'utf8' });
    expect({ status: piped.status, stdout: piped.stdout }).toEqual({ status: 0, stdout: 'typed\n' });
    // Without -i the program reads an empty stdin, not the caller's.
    const notPiped = spawnSync(NODE, [CLI_JS, '--root', stateRoot, 'exec', id, 'cat'], { cwd: ROOT, input: 'typed\n', encoding: 'utf8' });
    expect({ status: notPiped.status, stdout: notPiped.stdout }).toEqual({ status: 0, stdout: '' });
    // A terminal's output ends lines with \r\n.
    const tty = cli(['exec', '-t', id, 'sh', '-c', 'test -t 0 && test -t 1 && echo on a tty; exit 4']);
    expect({ status: tty.status, stdout: tty.stdout }).toEqual({ status: 4, stdout: 'on a tty\r\n' });
    expect(ok(['exec', '-u', '1000:1000', '-w', '/tmp', '-e', 'V=1', id, 'sh', '-c', 'echo $(id -u):$(id -g) $(pwd) $V'])).toBe('1000:1000 /tmp 1\n');
  });

  test('create, then start; start again once it has stopped', async () => {
    const id = track('created1');
    expect(ok(['create', '--name', id, '--', ...politeLoop('started', 0)])).toBe(`${id}\n`);
    expect(stateOf(id).status).toBe('created');
    expect(listRow(id)?.STATUS).toBe('created');
    // Nothing ran yet.
    expect(cli(['logs', id]).stdout).toBe('');

    expect(ok(['start', id])).toBe(`${id}\n`);
    expect(stateOf(id).status).toBe('running');
    await waitFor('the output of the started program', () => cli(['logs', id]).stdout.includes('started'));

    ok(['stop', id]);
    expect(stateOf(id)).toMatchObject({ status: 'stopped', exitCode: 0 });
    // docker start's meaning: the same container runs again.
    expect(ok(['start', id])).toBe(`${id}\n`);
    expect(stateOf(id)).toMatchObject({ id, status: 'running', command: politeLoop('started', 0) });
  });

  test('kill with a signal name: the signal reaches the program', async () => {
    const id = track('killme');
    ok(['run', '-d', '--name', id, '--', 'sh', '-c', 'trap "exit 5" USR1; while :; do sleep 0.1; done']);
    expect(cli(['kill', id, 'usr1'])).toEqual({ status: 0, stdout: `${id}\n`, stderr: '' });
    await waitFor('the container to stop', () => stateOf(id).status === 'stopped');
    expect(stateOf(id)).toMatchObject({ status: 'stopped', exitCode: 5 });
    // Killing a stopped container is an error about that container: 1.
    const again = cli(['kill', id, 'KILL']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^ts-container: .*not running/);
  });

  test('kill with SIGKILL: STATUS names the signal', async () => {
    const id = track('killed9');
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    ok(['kill', id, 'SIGKILL']);
    await waitFor('the container to stop', () => stateOf(id).status === 'stopped');
    expect(listRow(id)?.STATUS).toBe('stopped (SIGKILL)');
  });

  test('kill without a signal is SIGKILL, as docker and the library: a PID 1 that ignores SIGTERM stops', async () => {
    const id = track('killdefault');
    // PID 1 of a PID namespace ignores SIGTERM when it has no handler: only SIGKILL ends `sleep`.
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    ok(['kill', id]);
    await waitFor('the container to stop', () => stateOf(id).status === 'stopped');
    expect(listRow(id)?.STATUS).toBe('stopped (SIGKILL)');
  });

  test('pause and resume', () => {
    const id = track('frozen');
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    expect(ok(['pause', id])).toBe(`${id}\n`);
    expect(stateOf(id).status).toBe('paused');
    expect(listRow(id)?.STATUS).toBe('paused');
    expect(ok(['resume', id])).toBe(`${id}\n`);
    expect(stateOf(id).status).toBe('running');
  });

  test('stats: CPU, memory against its limit, pids against theirs; --json as Container.stats()', () => {
    const id = track('busy-stats');
    ok(['run', '-d', '--name', id, '--memory', '64m', '--pids-limit', '20', '--', 'sh', '-c', 'while :; do :; done']);
    const [header, row] = ok(['stats', '--no-stream', id]).trimEnd().split('\n');
    expect(header.split(/\s{3,}/)).toEqual(['ID', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS', 'BLOCK I/O']);
    const cells = row.split(/\s{3,}/);
    expect(cells[0]).toBe(id);
    // A busy loop: above idle (how far depends on what else the machine runs), at most one
    // CPU's worth (plus measuring slack).
    expect(parseFloat(cells[1])).toBeGreaterThan(1);
    expect(parseFloat(cells[1])).toBeLessThan(130);
    expect(cells[2]).toMatch(/ \/ 64\.0MiB$/);
    expect(cells[4]).toBe('1 / 20');
    const [reading] = JSON.parse(ok(['stats', '--no-stream', '--json', id])) as { id: string; stats: { memory: { limit: number }; pids: { limit: number } } }[];
    expect(reading).toMatchObject({ id, stats: { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 20 } } });
    ok(['delete', '-f', id]);
  });

  test('delete -f removes a container whose state file is corrupt', () => {
    const id = track('corrupted');
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    const pid = stateOf(id).pid;
    fs.writeFileSync(path.join(stateRoot, id, 'state.json'), '{"trunc');
    const listed = listJson().find((e) => e.id === id);
    expect(listed).toMatchObject({ status: 'unknown' });
    expect(cli(['state', id]).status).toBe(125);
    expect(cli(['delete', '-f', id])).toEqual({ status: 0, stdout: `${id}\n`, stderr: '' });
    expect(listJson().map((e) => e.id)).not.toContain(id);
    // What its run record named (the monitor, and with it the container) has exited (a zombie
    // at most, until the host's init reaps it).
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat === '' || / Z /.test(stat.slice(stat.lastIndexOf(')')))).toBe(true);
  });

  test('delete refuses a running container without -f; -f kills it', () => {
    const id = track('busy');
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    const pid = stateOf(id).pid;
    const refused = cli(['delete', id]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`ts-container: cannot delete container ${id}: it is running (stop it first, or use delete -f)\n`);
    expect(stateOf(id).status).toBe('running');
    expect(cli(['delete', '-f', id])).toEqual({ status: 0, stdout: `${id}\n`, stderr: '' });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    expect(listJson().map((e) => e.id)).not.toContain(id);
  });

  test('unknown ids: "no such container", exit 1, for every command', () => {
    for (const args of [
      ['start', 'nope'], ['exec', 'nope', 'true'], ['top', 'nope'], ['wait', 'nope'], ['rm', 'nope'], ['state', 'nope'], ['logs', 'nope'],
      ['kill', 'nope'], ['stop', 'nope'], ['pause', 'nope'], ['resume', 'nope'], ['delete', 'nope'], ['stats', 'nope'],
    ]) {
      expect([args, cli(args)]).toEqual([args, { status: 1, stdout: '', stderr: 'ts-container: no such container: nope\n' }]);
    }
  });

  test('stop and delete of several ids: the others are done, the status is the failure\'s', () => {
    const id = track('several');
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    const r = cli(['delete', '-f', 'nope', id]);
    expect(r).toEqual({ status: 1, stdout: `${id}\n`, stderr: 'ts-container: no such container: nope\n' });
  });

  test('run -d with a missing program: 127, nothing left behind; an existing name: 125', () => {
    const missing = track('missing');
    const r = cli(['run', '-d', '--name', missing, '--', 'no-such-program-xyz']);
    expect(r.status).toBe(127);
    expect(r.stderr).toContain('no-such-program-xyz');
    expect(listJson().map((e) => e.id)).not.toContain(missing);

    const id = track('dup');
    ok(['run', '-d', '--name', id, '--', 'sleep', '1000']);
    const dup = cli(['run', '-d', '--name', id, '--', 'true']);
    expect(dup.status).toBe(125);
    expect(dup.stderr).toContain('already exists');
    // The first one was left alone.
    expect(stateOf(id).status).toBe('running');
  });

  test('logs -f follows until the container stops', async () => {
    const id = track('follow');
    ok(['run', '-d', '--name', id, '--', 'sh', '-c', 'echo one; sleep 1; echo two >&2; sleep 1; echo three']);
    const child = spawn(NODE, [CLI_JS, '--root', stateRoot, 'logs', '-f', id], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close', not 'exit': the output may still be in the pipes when the process has exited.
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect({ status, out, err }).toEqual({ status: 0, out: 'one\nthree\n', err: 'two\n' });
  });

  test('logs -f: Ctrl-C ends the reading, not the container', async () => {
    const id = track('followint');
    ok(['run', '-d', '--name', id, '--', ...politeLoop('up', 0)]);
    const child = spawn(NODE, [CLI_JS, '--root', stateRoot, 'logs', '-f', id], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('up')) resolve();
      });
      child.on('exit', () => reject(new Error(`logs -f exited early: ${out}`)));
    });
    child.kill('SIGINT');
    // 'close', not 'exit': the output may still be in the pipes when the process has exited.
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(status).toBe(130);
    expect(stateOf(id).status).toBe('running');
  });

  test('--rootfs shows in list; TS_CONTAINER_STATE_ROOT is the default root', () => {
    const rootfs = ensureBusyboxRootfs();
    const id = track('boxed');
    ok(['run', '-d', '--name', id, '--rootfs', rootfs, '--', 'sleep', '1000']);
    expect(listRow(id)).toMatchObject({ ROOTFS: rootfs, STATUS: 'running' });
    const viaEnv = spawnSync(NODE, [CLI_JS, 'list', '-q'], {
      cwd: ROOT,
      env: { ...process.env, TS_CONTAINER_STATE_ROOT: stateRoot },
      encoding: 'utf8',
      timeout: 40000,
    });
    expect(viaEnv.stdout.split('\n')).toContain(id);
  });
});
