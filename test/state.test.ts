/**
 * Container state shared between processes: list() from anywhere, get() to manage a
 * container another Node process made, create() then start(), detached containers that
 * outlive their maker with a monitor that logs and restarts them, and state files that are
 * corrupt or lie about a pid.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Container,
  ContainerExistsError,
  ContainerNotFoundError,
  ContainerStateError,
  ContainerLogsError,
  ContainerStateFileError,
  ContainerStoppedError,
} from '../lib/index';
import { collect, removeScripts, runScript, startScript, waitForFile } from './support/node-script';
import { containerLeftovers, leftoverCount } from './support/container-leftovers';
import { runCgroupParent, uniqueId } from './support/unique';
import { handlesSignal } from './support/leftovers';

let root: string;
const made: Container[] = [];
/** Containers made here sit in this run's own cgroup parent, which goes with the last of them. */
const cgroupParent = runCgroupParent('state');

function make(options: ConstructorParameters<typeof Container>[0] = {}): Container {
  const c = new Container({ stateRoot: root, cgroupParent, ...options });
  made.push(c);
  return c;
}

async function until<T>(what: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 15000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await what();
    if (ok(value)) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once the process has a SIGTERM handler (its trap is set). */
function untilCatchesSigterm(pid: number): Promise<unknown> {
  return until(() => handlesSignal(pid, 15), (handled) => handled);
}

async function logText(c: Container): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  for await (const record of c.logs()) if (record.stream !== 'dropped') out[record.stream] += record.data.toString();
  return out;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-state-'));
});

afterEach(async () => {
  await Promise.all(made.splice(0).map((c) => c.destroy().catch(() => undefined)));
});

afterAll(() => {
  removeScripts();
  // Every test destroys what it made: the root must be empty again.
  expect(fs.readdirSync(root)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('list() and state()', () => {
  test('a running container is listed with its OCI state, read from the kernel', async () => {
    const c = make({ id: uniqueId('listed'), annotations: { owner: 'ci' } });
    const p = c.spawn(['sleep', '30']);
    await p.started;
    const all = await Container.list({ stateRoot: root });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      ociVersion: '1.2.0',
      id: uniqueId('listed'),
      status: 'running',
      pid: p.pid,
      bundle: path.join(root, uniqueId('listed')),
      annotations: { owner: 'ci' },
      command: ['sleep', '30'],
      rootfs: null,
      detached: false,
      restartCount: 0,
    });
    expect(Date.parse((all[0] as { created: string }).created)).toBeGreaterThan(Date.now() - 60000);
    // The pid is the container's PID 1: its /proc entry is in another PID namespace.
    expect(fs.readlinkSync(`/proc/${p.pid}/ns/pid`)).not.toEqual(fs.readlinkSync('/proc/self/ns/pid'));
    c.kill('SIGKILL');
    await c.wait();
    expect(await c.state()).toMatchObject({ status: 'stopped', pid: 0, exitCode: null, signal: 'SIGKILL' });
  });

  test('a recorded pid that now names another process is not taken for the container', async () => {
    const c = make({ id: uniqueId('reused-pid') });
    await c.spawn(['true']).wait();
    // Make the record point at a live process that is not the container: this test's own.
    const dir = path.join(root, uniqueId('reused-pid'));
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
    record.pid = process.pid;
    record.startTime = '1';
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(record));
    fs.rmSync(path.join(dir, 'run.json'));
    expect(await c.state()).toMatchObject({ status: 'stopped', pid: 0 });
    const found = await Container.get(uniqueId('reused-pid'), { stateRoot: root });
    expect(() => found.exec(['true'])).toThrow(ContainerStoppedError);
  });

  test('a corrupt or truncated state file is reported by list(), which goes on with the rest', async () => {
    const good = make({ id: uniqueId('good') });
    await good.spawn(['sleep', '30']).started;
    for (const [id, text] of [['corrupt', '{"version": 1, "id": '], ['empty', ''], ['foreign', '{"hello": "world"}']]) {
      fs.mkdirSync(path.join(root, id));
      fs.writeFileSync(path.join(root, id, 'state.json'), text);
    }
    const all = await Container.list({ stateRoot: root });
    expect(all.map((e) => [e.id, e.status])).toEqual([
      ['corrupt', 'unknown'],
      ['empty', 'unknown'],
      ['foreign', 'unknown'],
      [uniqueId('good'), 'running'],
    ]);
    for (const entry of all.filter((e) => e.status === 'unknown')) expect(entry.error).toMatch(/state\.json/);
    await expect(Container.get('corrupt', { stateRoot: root })).rejects.toThrow(ContainerStateFileError);
    await expect(Container.get('corrupt', { stateRoot: root })).rejects.toMatchObject({ code: 'ECONTAINERSTATEFILE' });
    // Deleting needs force, which removes it whatever its state says.
    await expect(Container.remove('corrupt', { stateRoot: root })).rejects.toThrow(ContainerStateFileError);
    for (const id of ['corrupt', 'empty', 'foreign']) await Container.remove(id, { stateRoot: root, force: true });
    expect((await Container.list({ stateRoot: root })).map((e) => e.id)).toEqual([uniqueId('good')]);
  });
});

describe("a spawn's exit record", () => {
  const runRecord = (id: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(root, id, 'run.json'), 'utf8')) as Record<string, unknown>;

  test('is in run.json when wait() resolves: exit code or signal, and when it ended', async () => {
    const exited = make({ id: uniqueId('exit-record') });
    const p = exited.spawn(['sh', '-c', 'exit 7']);
    await p.started;
    const startedAt = (await exited.state()).startedAt as string;
    expect(await p.wait()).toMatchObject({ exitCode: 7, signal: null });
    // Read at once, as any other process would: nothing is written after wait().
    const record = runRecord(uniqueId('exit-record'));
    expect(record).toMatchObject({ pid: p.pid, exited: true, exitCode: 7, signal: null, restartCount: 0, monitorPid: 0 });
    expect(record.finishedAt as number).toBeGreaterThanOrEqual(Date.parse(startedAt));
    expect(record.finishedAt as number).toBeLessThanOrEqual(Date.now());
    const other = await runScript(`
      const c = await Container.get('${uniqueId('exit-record')}', { stateRoot: ${JSON.stringify(root)} });
      const s = await c.state();
      console.log(JSON.stringify({ status: s.status, exitCode: s.exitCode }));
    `);
    expect(JSON.parse(other.stdout)).toEqual({ status: 'stopped', exitCode: 7 });

    const killed = make({ id: uniqueId('exit-record-kill') });
    const q = killed.spawn(['sleep', '100']);
    await q.started;
    q.kill('SIGKILL');
    expect(await q.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(runRecord(uniqueId('exit-record-kill'))).toMatchObject({ pid: q.pid, exited: true, exitCode: null, signal: 9 });
  });

  test('is not written into another directory that took the name while the container ran', async () => {
    const id = uniqueId('exit-record-moved');
    const c = make({ id });
    const p = c.spawn(['sleep', '100']);
    await p.started;
    const dir = path.join(root, id);
    const away = path.join(root, `${id}-away`);
    fs.renameSync(dir, away);
    fs.mkdirSync(dir, { mode: 0o700 });
    try {
      p.kill('SIGKILL');
      expect(await p.wait()).toMatchObject({ signal: 'SIGKILL' });
      expect(fs.readdirSync(dir)).toEqual([]);
      // Nor into the container's own, which is no longer where it was recorded.
      expect(fs.existsSync(path.join(away, 'run.json'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(away, dir);
    }
    await c.destroy();
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('another Node process', () => {
  test('lists, execs into, stops and deletes a container made here', async () => {
    const c = make({ id: uniqueId('shared'), hostname: 'shared-box' });
    const p = c.spawn(['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done']);
    await p.started;
    await untilCatchesSigterm(p.pid as number);
    const other = await runScript(`
      const root = ${JSON.stringify(root)};
      const all = await Container.list({ stateRoot: root });
      console.log('listed', all.map((e) => e.id + ':' + e.status).join(','));
      const c = await Container.get('${uniqueId('shared')}', { stateRoot: root });
      const { stdout } = await c.exec(['hostname']).output();
      console.log('hostname', stdout.trim());
      const ps = await c.processes();
      console.log('processes', ps.length > 0);
      await c.stop({ timeout: 5 });
      console.log('stopped', JSON.stringify(await c.wait()));
      await c.destroy();
      console.log('after', (await Container.list({ stateRoot: root })).length);
    `);
    expect(other.stderr).toBe('');
    expect(other.stdout).toContain(`listed ${uniqueId('shared')}:running`);
    expect(other.stdout).toContain('hostname shared-box');
    expect(other.stdout).toContain('processes true');
    expect(other.stdout).toMatch(/stopped \{"exitCode":7,"signal":null/);
    expect(other.stdout).toContain('after 0');
    // Here, the maker sees its main process end as the other process stopped it.
    expect(await p.wait()).toMatchObject({ exitCode: 7 });
    await c.destroy();
    expect(leftoverCount(containerLeftovers(uniqueId('shared'), root))).toBe(0);
  });

  test('two processes making the same id at once: exactly one wins, the other gets ContainerExistsError', async () => {
    const script = `
      const c = new Container({ id: '${uniqueId('contested')}', stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(cgroupParent)}, detach: true });
      try {
        await c.spawn(['sleep', '30']).started;
        console.log('won');
      } catch (error) {
        console.log('lost', error.code);
      }
    `;
    const results = await Promise.all([runScript(script), runScript(script), runScript(script)]);
    const outcomes = results.map((r) => r.stdout.trim()).sort();
    expect(outcomes).toEqual(['lost ECONTAINEREXISTS', 'lost ECONTAINEREXISTS', 'won']);
    const winner = await Container.get(uniqueId('contested'), { stateRoot: root });
    made.push(winner);
    expect((await winner.state()).status).toBe('running');
    // In one process too: the second make throws at once, and leaves the first alone.
    const twice = make({ id: uniqueId('twice') });
    await twice.spawn(['sleep', '30']).started;
    expect(() => new Container({ id: uniqueId('twice'), stateRoot: root }).spawn(['true'])).toThrow(ContainerExistsError);
    expect((await twice.state()).status).toBe('running');
  });
});

describe('create() and start()', () => {
  test('the program waits, with everything made, until start(), which may come from another process', async () => {
    const c = make({ id: uniqueId('gated'), detach: true });
    const p = await c.create(['sh', '-c', 'echo ran; hostname']);
    expect(p.pid).toBeGreaterThan(0);
    expect(await c.state()).toMatchObject({ status: 'created', pid: p.pid });
    expect((await c.state()).startedAt).toBeUndefined();
    // Made: the process is in its own namespaces and cgroup already.
    expect(fs.readlinkSync(`/proc/${p.pid}/ns/uts`)).not.toEqual(fs.readlinkSync('/proc/self/ns/uts'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await logText(c)).toEqual({ stdout: '', stderr: '' });
    const other = await runScript(`
      const c = await Container.get('${uniqueId('gated')}', { stateRoot: ${JSON.stringify(root)} });
      await c.start();
      console.log('started');
    `);
    expect(other.stdout.trim()).toBe('started');
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const state = await c.state();
    expect(state).toMatchObject({ status: 'stopped', exitCode: 0 });
    expect(Date.parse(state.startedAt as string)).toBeLessThanOrEqual(Date.parse(state.finishedAt as string));
    await until(() => logText(c), (l) => l.stdout === `ran\n${uniqueId('gated')}\n`);
  });

  test('a missing program fails create(), and start() twice or after exit is refused', async () => {
    const missing = make({ id: uniqueId('gate-missing') });
    await expect(missing.create(['no-such-program'])).rejects.toMatchObject({ code: 'ENOENT' });
    expect(fs.existsSync(path.join(root, uniqueId('gate-missing')))).toBe(false);
    const c = make({ id: uniqueId('gate-twice') });
    const p = await c.create(['true']);
    await c.start();
    await expect(c.start()).rejects.toThrow(/already been started|main process has exited/);
    await p.wait();
    await expect(c.start()).rejects.toThrow(ContainerStoppedError);
    const never = make({ id: uniqueId('gate-never') });
    await expect(never.start()).rejects.toThrow(ContainerStateError);
  });

  test('a created container that is destroyed never runs its program', async () => {
    const marker = path.join(root, 'ran-marker');
    const c = make({ id: uniqueId('gate-destroyed'), mounts: [{ type: 'bind', source: root, target: '/state' }] });
    const p = await c.create(['touch', '/state/ran-marker']);
    await c.destroy();
    expect(await p.wait()).toMatchObject({ signal: 'SIGKILL' });
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('detached containers', () => {
  test('outlive their maker; the exit code and the output are read later from anywhere', async () => {
    const maker = await runScript(`
      const c = new Container({ id: '${uniqueId('outliver')}', stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(cgroupParent)}, detach: true });
      const p = c.spawn(['sh', '-c', 'echo out-line; echo err-line >&2; while [ ! -e /tmp/go ]; do sleep 0.05; done; read exec < /tmp/go; while [ -e /proc/$exec ]; do sleep 0.05; done; exit 9']);
      await p.started;
      console.log(p.pid);
    `);
    expect(maker.code).toBe(0);
    const pid = Number(maker.stdout.trim());
    // The maker has exited; the container runs on, its monitor outside it, until told to end
    // (however long the maker took to exit).
    const c = await Container.get(uniqueId('outliver'), { stateRoot: root });
    made.push(c);
    expect(await c.state()).toMatchObject({ status: 'running', pid, detached: true });
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    // The exec names itself in /tmp/go; the main process ends once that process is gone (reaped
    // here): ended as soon as the file appeared, it could take the exec with it, for the end of a
    // PID namespace's first process kills what is left in it.
    expect(await c.exec(['sh', '-c', 'echo $$ > /tmp/go.new && mv /tmp/go.new /tmp/go']).wait()).toMatchObject({ exitCode: 0 });
    expect(await c.wait()).toMatchObject({ exitCode: 9, signal: null });
    expect(await c.state()).toMatchObject({ status: 'stopped', exitCode: 9 });
    expect(await logText(c)).toEqual({ stdout: 'out-line\n', stderr: 'err-line\n' });
    // Once stopped for good, the monitor removes the container's cgroups.
    await until(() => containerLeftovers(uniqueId('outliver'), root).cgroups, (dirs) => dirs.length === 0);
  });

  test('with a tty, the monitor holds the terminal and logs what the program writes to it', async () => {
    const c = make({ id: uniqueId('detached-tty'), detach: true, tty: { columns: 99, rows: 33 } });
    c.spawn(['sh', '-c', 'tty; stty size; [ -t 0 ] && echo stdin-is-tty']);
    expect(await c.wait()).toMatchObject({ exitCode: 0 });
    const { stdout, stderr } = await logText(c);
    expect(stdout.replace(/\r/g, '')).toBe('/dev/pts/0\n33 99\nstdin-is-tty\n');
    expect(stderr).toBe('');
  });

  test('wait() called at once on a detached container keeps its Node process until the exit', async () => {
    // The watch of a process Node does not reap does not hold Node, unless someone waits;
    // here the wait comes before the watch exists.
    const result = await runScript(`
      const c = new Container({ stateRoot: ${JSON.stringify(root)}, detach: true });
      c.spawn(['sh', '-c', 'sleep 0.2; exit 6']);
      console.log(JSON.stringify(await c.wait()));
      await c.destroy();
    `);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({ exitCode: 6, signal: null, killed: false, timedOut: false });
  });

  test('logs({ follow }) streams output as it comes, until the container stops', async () => {
    const c = make({ id: uniqueId('follower'), detach: true });
    c.spawn(['sh', '-c', 'for i in 1 2 3; do echo line-$i; sleep 0.1; done']);
    const lines: string[] = [];
    for await (const record of c.logs({ follow: true })) lines.push(record.data.toString());
    expect(lines.join('')).toBe('line-1\nline-2\nline-3\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  test("restart 'on-failure:3' restarts a failing program 3 times, then stops", async () => {
    const c = make({ id: uniqueId('on-failure'), detach: true, restart: 'on-failure:3' });
    c.spawn(['sh', '-c', 'echo attempt; exit 3']);
    const lines: string[] = [];
    for await (const record of c.logs({ follow: true })) lines.push(record.data.toString());
    expect(lines.join('')).toBe('attempt\n'.repeat(4));
    expect(await c.state()).toMatchObject({ status: 'stopped', restartCount: 3, exitCode: 3 });
  });

  test("restart 'on-failure' does not restart a program that succeeds", async () => {
    const c = make({ id: uniqueId('succeeds'), detach: true, restart: 'on-failure' });
    c.spawn(['true']);
    await c.wait();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await c.state()).toMatchObject({ status: 'stopped', restartCount: 0, exitCode: 0 });
  });

  test("restart 'always' restarts after a crash of the program, but not after stop()", async () => {
    // With init, the program is not PID 1, which the kernel shields from most signals.
    const c = make({ id: uniqueId('always'), detach: true, restart: 'always', init: true });
    const first = c.spawn(['sleep', '60']);
    await first.started;
    const firstPid = first.pid as number;
    const program = await until(() => c.processes(), (ps) => ps.some((p) => p.command === 'sleep 60'));
    // A crash: the program dies of a signal that nobody asked the container for.
    process.kill((program.find((p) => p.command === 'sleep 60') as { pid: number }).pid, 'SIGSEGV');
    const restarted = await until(() => c.state(), (s) => s.status === 'running' && s.pid !== firstPid && s.pid > 0);
    expect(restarted.restartCount).toBe(1);
    const found = await Container.get(uniqueId('always'), { stateRoot: root });
    await found.stop({ timeout: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await c.state()).toMatchObject({ status: 'stopped', restartCount: 1, pid: 0 });
  });

  test('stop() sends SIGTERM, then SIGKILL after the timeout', async () => {
    const graceful = make({ id: uniqueId('graceful'), detach: true });
    const p = graceful.spawn(['sh', '-c', 'trap "exit 5" TERM; while :; do sleep 0.05; done']);
    await p.started;
    await untilCatchesSigterm(p.pid as number);
    await graceful.stop({ timeout: 5 });
    expect(await graceful.state()).toMatchObject({ status: 'stopped', exitCode: 5 });
    // sleep as PID 1 has no handler: the kernel ignores SIGTERM for it.
    const stubborn = make({ id: uniqueId('stubborn'), detach: true });
    await stubborn.spawn(['sleep', '60']).started;
    const before = Date.now();
    await stubborn.stop({ timeout: 0.3 });
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
    expect(await stubborn.state()).toMatchObject({ status: 'stopped', signal: 'SIGKILL' });
  });

  test('a container that stops in time does not keep its Node process alive for the grace period', async () => {
    // With init, SIGTERM reaches sleep, which ends at once: long before the 120 s grace period.
    const started = Date.now();
    const result = await runScript(`
      const c = new Container({ stateRoot: ${JSON.stringify(root)}, init: true });
      await c.spawn(['sleep', '600']).started;
      await c.stop({ timeout: 120 });
      console.log(JSON.stringify(await c.wait()));
      await c.destroy();
    `, {}, 60000);
    expect(result.stdout).toMatch(/"exitCode":143/);
    expect(Date.now() - started).toBeLessThan(60000);
  });

  test('Container.restore() makes a stopped container again from its saved config', async () => {
    const c = make({ id: uniqueId('restorable'), detach: true, hostname: 'restored-box', env: { GREETING: 'hello' } });
    c.spawn(['sh', '-c', 'echo $GREETING from $(hostname)']);
    await c.wait();
    const again = await Container.restore(uniqueId('restorable'), { stateRoot: root });
    made.push(again);
    await again.wait();
    const lines: string[] = [];
    for await (const record of again.logs()) lines.push(record.data.toString());
    expect(lines.join('')).toBe('hello from restored-box\n');
    await expect(Container.restore('no-such', { stateRoot: root })).rejects.toThrow(ContainerNotFoundError);
  });

  test('pause() and resume() show in the state', async () => {
    const c = make({ id: uniqueId('pausable'), detach: true });
    await c.spawn(['sleep', '60']).started;
    const found = await Container.get(uniqueId('pausable'), { stateRoot: root });
    await found.pause();
    expect((await c.state()).status).toBe('paused');
    await found.resume();
    expect((await c.state()).status).toBe('running');
  });
});

describe('bad input', () => {
  test.each([
    [{ restart: 'always' }, /^restart: needs detach: true/],
    [{ detach: true, restart: 'sometimes' }, /^restart: expected/],
    [{ detach: true, restart: 'always:3' }, /^restart: expected/],
    [{ detach: 'yes' }, /^detach: expected a boolean/],
    [{ stateRoot: 5 }, /^stateRoot: expected a directory path/],
    [{ annotations: { a: 1 } }, /^annotations\.a: expected a string/],
    [{ command: [] }, /^command: expected a non-empty array/],
    [{ detach: true, seccomp: { notify: { syscalls: ['mkdir'], handler: () => ({ action: 'continue' }) } } }, /^seccomp\.notify: a detached container/],
  ])('%j is a TypeError naming the option', (options, message) => {
    expect(() => new Container({ stateRoot: root, ...(options as object) })).toThrow(TypeError);
    expect(() => new Container({ stateRoot: root, ...(options as object) })).toThrow(message);
  });

  test('operations on containers that are not there get typed errors and leave nothing', async () => {
    await expect(Container.get('nobody', { stateRoot: root })).rejects.toThrow(ContainerNotFoundError);
    await expect(Container.get('nobody', { stateRoot: root })).rejects.toMatchObject({ code: 'ENOCONTAINER' });
    await expect(Container.get('../etc', { stateRoot: root })).rejects.toThrow(ContainerNotFoundError);
    const attached = make({ id: uniqueId('not-detached') });
    await attached.spawn(['true'], { stdio: 'ignore' }).wait();
    expect(() => attached.logs()).toThrow(ContainerLogsError);
    const detached = make({ id: uniqueId('detached-stdio'), detach: true });
    expect(() => detached.spawn(['true'], { stdio: 'inherit' })).toThrow(/^stdio: a detached container/);
    expect(fs.existsSync(path.join(root, uniqueId('detached-stdio')))).toBe(false);
    expect(() => make().spawn()).toThrow(/^argv: /);
    expect(fs.readdirSync(root)).toEqual([uniqueId('not-detached')]);
  });
});

test('a container survives no Node process that was killed: the next run sweeps what is left', async () => {
  const child = startScript(`
    const c = new Container({ id: '${uniqueId('orphan')}', stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(cgroupParent)} });
    const p = c.spawn(['sleep', '60']);
    await p.started;
    console.log(p.pid);
    await new Promise(() => undefined);
  `);
  const pidLine = await new Promise<string>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(d.toString())));
  const pid = Number(pidLine.trim());
  expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
  child.kill('SIGKILL');
  await collect(child);
  // The container's first process dies with its parent.
  await until(() => fs.existsSync(`/proc/${pid}`), (exists) => !exists);
  expect((await Container.list({ stateRoot: root })).map((e) => [e.id, e.status])).toEqual([[uniqueId('orphan'), 'stopped']]);
  // The next run, in a new process, clears it.
  const next = await runScript(`
    const c = new Container({ stateRoot: ${JSON.stringify(root)} });
    await c.spawn(['true']).wait();
    await c.destroy();
  `);
  expect(next.code).toBe(0);
  expect(containerLeftovers(uniqueId('orphan'), root)).toEqual({ stateEntries: [], cgroups: [], processes: [], mounts: [] });
});
