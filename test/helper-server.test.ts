/**
 * The setup server (issue 14): the helper Node starts once and asks for a worker per
 * container or exec. What a user of the library could see of it: it holds nothing but its
 * channel, nothing of it reaches a container, it comes back after SIGKILL without leaving a zombie, it serves concurrent
 * spawns and execs, and it goes away with the Node process that started it. (That it is
 * not dumpable is not tested: root without CAP_SYS_PTRACE reads /proc/<pid>/environ even of
 * a non-dumpable process of root on this kernel, so nothing outside tells it apart.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { helperServerPid } from '../lib/native/binding';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { ok, useContainers } from './support/containers';
import { childProcesses, readStat } from './support/leftovers';
import { collect, removeScripts, runScript, startScript, waitForFile } from './support/node-script';

const rootfs = ensureBusyboxRootfs();
const { make, run, tempDirs } = useContainers({ rootfs, readonly: true });

afterAll(() => removeScripts());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** fd number -> target of a process's open fds. */
function fdsOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) out[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
  return out;
}

/** The server of this process, started by a first container if there is none yet. */
async function runningServer(): Promise<number> {
  if (helperServerPid() < 0) expect(await run({}, ['true'])).toMatchObject({ exitCode: 0 });
  const pid = helperServerPid();
  expect(pid).toBeGreaterThan(0);
  return pid;
}

/** Resolves once `pid` is a zombie (killed, not yet reaped) or gone. */
async function untilDead(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z') return;
    await sleep(10);
  }
  throw new Error(`${pid} still runs`);
}

/** Children of this process that are zombies. */
const zombieChildren = () => childProcesses().filter((c) => c.state === 'Z');

test('the server holds only stdio on /dev/null, its channel and network namespaces, and is named tsc-setup-srv', async () => {
  const pid = await runningServer();
  const fds = fdsOf(pid);
  // Its own network namespace (to come back to), and at most one made ahead for the next
  // container: a new one, never the host's.
  const hostNetwork = fs.readlinkSync('/proc/self/ns/net');
  const premade = Object.entries(fds).filter(([fd]) => Number(fd) > 4);
  expect(premade.length).toBeLessThanOrEqual(1);
  for (const [, link] of premade) {
    expect(link).toMatch(/^net:\[\d+\]$/);
    expect(link).not.toBe(hostNetwork);
  }
  expect(Object.fromEntries(Object.entries(fds).filter(([fd]) => Number(fd) <= 4))).toEqual({
    '0': '/dev/null',
    '1': '/dev/null',
    '2': '/dev/null',
    '3': expect.stringMatching(/^socket:\[\d+\]$/),
    '4': hostNetwork,
  });
  expect(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('tsc-setup-srv');
  expect(readStat(pid)?.ppid).toBe(process.pid);
});

/** A process's SigBlk, SigIgn and SigCgt lines of /proc/<pid>/status (or of the text given). */
function signalMasks(status: string): string[] {
  return status.split('\n').filter((line) => /^Sig(Blk|Ign|Cgt):/.test(line));
}

test("the server and a container's program start with every signal at its default, none blocked, though Node ignores SIGPIPE", async () => {
  const none = ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000', 'SigCgt:\t0000000000000000'];
  // Node's own dispositions are not default (it ignores SIGPIPE): nothing of them may pass on.
  expect(signalMasks(fs.readFileSync('/proc/self/status', 'utf8'))).not.toEqual(none);
  const pid = await runningServer();
  expect(signalMasks(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))).toEqual(none);
  // Twice: the second container's worker is a clone of a server that has made one already.
  for (let i = 0; i < 2; i++) {
    const out = await run({}, ['cat', '/proc/self/status']);
    expect(out.exitCode).toBe(0);
    expect(signalMasks(out.stdout)).toEqual(none);
  }
});

test("a container's process holds no fd of the server, and its worker none of the server's channel", async () => {
  const pid = await runningServer();
  const channel = fdsOf(pid)['3'];
  // A running program's fds, seen from the host: its stdio and nothing else.
  const running = make().spawn(['sleep', '1000'], { stdio: 'pipe' });
  await new Promise<void>((resolve) => running.once('spawn', () => resolve()));
  const programFds = fdsOf(running.pid!);
  expect(Object.keys(programFds).sort()).toEqual(['0', '1', '2']);
  expect(Object.values(programFds)).not.toContain(channel);

  // A worker stopped right after its clone (the test pause hook): Node's child, in a group of
  // its own, with its stdio and channel in place and nothing of the server.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-helper-server-'));
  tempDirs.push(dir);
  const pauseFile = path.join(dir, '.pause');
  process.env.TS_CONTAINER_TEST_PAUSE_AT = 'helper:clone-report';
  process.env.TS_CONTAINER_TEST_PAUSE_FILE = pauseFile;
  try {
    const c = make({ stateRoot: dir });
    const main = c.spawn(['true'], { stdio: 'ignore' });
    const failed = new Promise<Error>((resolve) => main.once('error', resolve));
    const [reached, workerText] = await waitForFile(pauseFile);
    delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
    delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
    expect(reached).toBe('helper:clone-report');
    const worker = Number(workerText);
    const stat = fs.readFileSync(`/proc/${worker}/stat`, 'utf8');
    const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(ppid)).toBe(process.pid);
    expect(Number(pgrp)).toBe(worker);
    const workerFds = fdsOf(worker);
    expect(Object.values(workerFds)).not.toContain(channel);
    expect(workerFds['3']).toMatch(/^socket:\[\d+\]$/);
    process.kill(worker, 'SIGKILL');
    expect((await failed).message).toMatch(/helper killed by signal 9/);
  } finally {
    delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
    delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  }
  expect(zombieChildren()).toEqual([]);
});

test('a server killed with SIGKILL between spawns is replaced: the next spawn and exec work and no zombie stays', async () => {
  const first = await runningServer();
  const c = make();
  const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await new Promise<void>((resolve) => main.once('spawn', () => resolve()));

  process.kill(first, 'SIGKILL');
  await untilDead(first);
  expect(await c.exec(['echo', 'exec after kill'], { stdio: 'pipe' }).output()).toMatchObject(ok('exec after kill\n'));
  const second = helperServerPid();
  expect(second).toBeGreaterThan(0);
  expect(second).not.toBe(first);
  expect(fs.existsSync(`/proc/${first}`)).toBe(false);

  process.kill(second, 'SIGKILL');
  await untilDead(second);
  expect(await run({}, ['echo', 'spawn after kill'])).toMatchObject(ok('spawn after kill\n'));
  expect(helperServerPid()).not.toBe(second);
  expect(fs.existsSync(`/proc/${second}`)).toBe(false);
  expect(zombieChildren()).toEqual([]);
});

test('a server killed with requests still unread in its queue: the spawn and the exec are asked of the next server and run', async () => {
  const first = await runningServer();
  const c = make();
  const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await new Promise<void>((resolve) => main.once('spawn', () => resolve()));
  const second = await runningServer();
  // Stopped, it takes no request: both wait in its queue when it is killed, and go with it.
  process.kill(second, 'SIGSTOP');
  const spawned = run({}, ['echo', 'asked again']);
  const executed = c.exec(['echo', 'exec asked again'], { stdio: 'pipe' }).output();
  await sleep(100);
  process.kill(second, 'SIGKILL');
  expect(await spawned).toMatchObject(ok('asked again\n'));
  expect(await executed).toMatchObject(ok('exec asked again\n'));
  expect(helperServerPid()).toBeGreaterThan(0);
  expect(helperServerPid()).not.toBe(second);
  expect(fs.existsSync(`/proc/${second}`)).toBe(false);
  expect(first).toBe(second);
  await c.destroy();
  for (let i = 0; i < 100 && zombieChildren().length > 0; i++) await sleep(20);
  expect(zombieChildren()).toEqual([]);
});

test('a server stopped right after it cloned a worker, then killed: the worker makes the container alone, the next spawn gets a new server, no zombie', async () => {
  // In a Node process of its own: the server stops itself (SIGSTOP) once it has cloned the worker.
  const markDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-server-'));
  tempDirs.push(markDir);
  const killedMark = path.join(markDir, 'killed');
  const script = startScript(`
    const fs = await import('node:fs');
    const { helperServerPid } = await import(${JSON.stringify(path.resolve(__dirname, '../lib/native/binding'))});
    process.env.TS_CONTAINER_TEST_PAUSE_AT = 'server:worker-cloned';
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true });
    const first = await c.spawn(['echo', 'made by the worker alone'], { stdio: 'pipe' }).output();
    delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
    await c.destroy();
    const stopped = helperServerPid();
    console.log('STOPPED ' + stopped);
    // The test kills the stopped server now and says so with this file.
    while (!fs.existsSync(process.env.KILLED_MARK)) await new Promise((r) => setTimeout(r, 10));
    const d = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true });
    const second = await d.spawn(['echo', 'after the restart'], { stdio: 'pipe' }).output();
    await d.destroy();
    const zombiesNow = () => fs.readdirSync('/proc').filter((p) => {
      try {
        const stat = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(ppid) === process.pid && state === 'Z';
      } catch {
        return false;
      }
    });
    // A worker that has reported is reaped by a thread of the addon, a moment after it exits:
    // what must not stay is a zombie nobody reaps.
    let zombies = zombiesNow();
    for (let i = 0; i < 100 && zombies.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      zombies = zombiesNow();
    }
    console.log(JSON.stringify({ first: first.stdout, second: second.stdout, restarted: helperServerPid() !== stopped, zombies }));
  `, { KILLED_MARK: killedMark });
  let stdout = '';
  script.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const done = collect(script, 60000);
  let server: number | undefined;
  for (let i = 0; i < 3000 && server === undefined; i++) {
    server = Number(/STOPPED (\d+)/.exec(stdout)?.[1]) || undefined;
    if (server === undefined) await sleep(10);
  }
  expect(server).toBeDefined();
  // Still stopped where the hook put it: the container above was made without it.
  expect(readStat(server!)?.state).toBe('T');
  process.kill(server!, 'SIGKILL');
  fs.writeFileSync(killedMark, '');
  const result = await done;
  // The script's stderr says what it threw, when it did.
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({
    first: 'made by the worker alone\n',
    second: 'after the restart\n',
    restarted: true,
    zombies: [],
  });
});

test('a spawn that fails before its plan is sent lets the worker asked for it go: it exits and is reaped before the rejection', async () => {
  const server = await runningServer();
  const before = childProcesses().map((c) => c.pid);
  // The request goes to the server without a round trip: a server slow to take it (stopped
  // here for 300 ms) clones the worker only after the spawn has failed. The rejection waits
  // for that worker to exit and be reaped, so nothing of the spawn's is left when it comes.
  process.kill(server, 'SIGSTOP');
  let continuedAt = 0;
  const resume = setTimeout(() => {
    continuedAt = Date.now();
    process.kill(server, 'SIGCONT');
  }, 300);
  try {
    // Sharing the network of a container that does not exist fails before the plan is made.
    const c = make({ network: { container: `absent-${process.pid}-${Date.now()}` } });
    const error = await c.spawn(['true'], { stdio: 'ignore' }).wait().catch((e: Error) => e);
    const rejectedAt = Date.now();
    expect(error).toMatchObject({ name: 'ContainerNotFoundError', code: 'ENOCONTAINER' });
    expect(continuedAt).toBeGreaterThan(0);
    expect(rejectedAt).toBeGreaterThanOrEqual(continuedAt);
    expect(childProcesses().filter((child) => !before.includes(child.pid))).toEqual([]);
    expect(zombieChildren()).toEqual([]);
  } finally {
    clearTimeout(resume);
    process.kill(server, 'SIGCONT');
  }
});

test('a spawn whose setup fails rejects only once its worker and its process are reaped: no child of it is left', async () => {
  await runningServer();
  const before = childProcesses().map((c) => c.pid);
  for (let i = 0; i < 20; i++) {
    const c = make();
    const error = await c.spawn(['/no/such/program'], { stdio: 'ignore' }).wait().catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'ENOENT' });
    // At the rejection, not a moment later: a worker that reported a failure is reaped first.
    expect(childProcesses().filter((child) => !before.includes(child.pid))).toEqual([]);
  }
});

test('20 concurrent spawns and 20 concurrent execs each get their own output', async () => {
  const hosts = Array.from({ length: 4 }, () => make());
  await Promise.all(
    hosts.map((h) => {
      const p = h.spawn(['sleep', '1000'], { stdio: 'ignore' });
      return new Promise<void>((resolve) => p.once('spawn', () => resolve()));
    }),
  );
  const spawns = Array.from({ length: 20 }, (_, i) => run({}, ['echo', `spawn ${i}`]));
  const execs = Array.from({ length: 20 }, (_, i) => hosts[i % hosts.length].exec(['echo', `exec ${i}`], { stdio: 'pipe' }).output());
  const [spawned, execed] = await Promise.all([Promise.all(spawns), Promise.all(execs)]);
  spawned.forEach((out, i) => expect(out).toMatchObject(ok(`spawn ${i}\n`)));
  execed.forEach((out, i) => expect(out).toMatchObject(ok(`exec ${i}\n`)));
  expect(zombieChildren()).toEqual([]);
});

test('the server of a Node process that made containers is gone once that process exits', async () => {
  const binding = path.resolve(__dirname, '..', 'lib', 'native', 'binding');
  const result = await runScript(`
    const { helperServerPid } = await import(${JSON.stringify(binding)});
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true });
    const out = await c.spawn(['echo', 'made'], { stdio: 'pipe' }).output();
    await c.destroy();
    console.log(out.stdout.trim(), helperServerPid());
  `);
  expect(result.code).toBe(0);
  const [word, pidText] = result.stdout.trim().split(' ');
  expect(word).toBe('made');
  const pid = Number(pidText);
  expect(pid).toBeGreaterThan(0);
  // Its channel closed with the script: it exits and init reaps it.
  for (let i = 0; i < 500 && fs.existsSync(`/proc/${pid}`); i++) await sleep(10);
  expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
});
