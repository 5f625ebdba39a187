/**
 * Crash safety: a Node process making a container, or its helper, is killed -9 at each
 * named step of create() and start() (a test hook stops it there). Afterwards list() must
 * say the container is stopped or gone (or, for a detached container that was fully made
 * before the kill, that it exists as made), and destroy() or the next run must leave no
 * state directory, cgroup, process or mount of it: the leftover count must be zero.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib/index';
import { collect, removeScripts, runScript, startScript, waitForFile } from './support/node-script';
import { containerLeftovers, leftoverCount, type ContainerLeftovers } from './support/container-leftovers';
import { TEST_EXIT_STATUS } from '../lib/state/test-hook';
import { uniqueId } from './support/unique';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-crash-'));
});

afterAll(() => {
  removeScripts();
  expect(fs.readdirSync(root)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

const NODE_STEPS = ['directory-made', 'cgroup-made', 'helper-reported', 'created', 'start-gate-opened', 'started'];
const HELPER_STEPS = ['helper:cloned', 'helper:monitor'];
/** From these on, a detached container is fully made: it rightly outlives its maker. */
const MADE_STEPS = new Set(['created', 'start-gate-opened', 'started']);

interface Case {
  step: string;
  detach: boolean;
  cleanup: 'destroy' | 'next run';
}

const cases: Case[] = [];
for (const detach of [false, true]) {
  for (const step of [...NODE_STEPS, ...HELPER_STEPS]) {
    if (step === 'helper:monitor' && !detach) continue;
    // A made detached container is the user's to delete: the next run keeps it.
    const cleanups: Case['cleanup'][] = detach && MADE_STEPS.has(step) ? ['destroy'] : ['destroy', 'next run'];
    for (const cleanup of cleanups) cases.push({ step, detach, cleanup });
  }
}

async function settledLeftovers(id: string): Promise<ContainerLeftovers> {
  let left = containerLeftovers(id, root);
  // Killed processes leave their cgroups a moment after they die.
  for (let waited = 0; leftoverCount(left) > 0 && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = containerLeftovers(id, root);
  }
  return left;
}

test.each(cases)('kill -9 at $step (detach: $detach), then $cleanup: nothing left', async ({ step, detach, cleanup }) => {
  const id = uniqueId(`crash-${step.replace(':', '-')}-${detach ? 'd' : 'a'}-${cleanup === 'destroy' ? 'x' : 'n'}`);
  const pauseFile = path.join(root, `.pause-${id}`);
  const maker = startScript(
    `
    const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(root)}, detach: ${detach} });
    try {
      await c.create(['sleep', '60']);
      await c.start();
    } catch (error) {
      // What a failed make could leave in this process: a container process as its child,
      // alive (in another PID namespace) or a zombie. (tsx's esbuild is a child too.)
      const fs = await import('node:fs');
      const ownPidNs = fs.readlinkSync('/proc/self/ns/pid');
      const left = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
        try {
          const fields = fs.readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1].split(' ');
          if (Number(fields[1]) !== process.pid) return false;
          return fields[0] === 'Z' || fs.readlinkSync('/proc/' + p + '/ns/pid') !== ownPidNs;
        } catch {
          return false;
        }
      });
      console.log('container children ' + left.length);
      throw error;
    }
    console.log('made');
    await new Promise(() => undefined);
    `,
    { TS_CONTAINER_TEST_PAUSE_AT: step, TS_CONTAINER_TEST_PAUSE_FILE: pauseFile },
  );
  const [reached, pid] = await waitForFile(pauseFile);
  expect(reached).toBe(step);
  process.kill(Number(pid), 'SIGKILL');
  fs.rmSync(pauseFile);
  // Killing the helper fails create() in the maker, which exits; a killed maker is gone already.
  if (step.startsWith('helper:')) {
    const result = await collect(maker, 60000);
    expect(result.stdout).not.toContain('made');
    // Whatever the helper had cloned was killed and reaped by Node (it had its pidfd).
    expect({ stdout: result.stdout, stderr: result.stderr.slice(0, 2000), code: result.code }).toMatchObject({
      stdout: expect.stringContaining('container children 0'),
      stderr: expect.stringMatching(/helper killed by signal 9|monitor ended before it reported/),
    });
  } else {
    await collect(maker, 20000);
  }

  // The container dies with its maker (or by its monitor's hand); dying takes a moment.
  const listOf = async () => (await Container.list({ stateRoot: root })).filter((e) => e.id === id);
  let listed = await listOf();
  const settles = !(detach && MADE_STEPS.has(step));
  for (let waited = 0; settles && listed.some((e) => e.status !== 'stopped') && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    listed = await listOf();
  }
  if (detach && MADE_STEPS.has(step)) {
    expect(listed.map((e) => e.status)).toEqual([step === 'created' ? 'created' : 'running']);
  } else {
    expect(listed.every((e) => e.status === 'stopped')).toBe(true);
    // Nothing of it runs any more: a container that ends with its maker is killed with it, and
    // a detached one's monitor kills what its maker had not said was made.
    expect((await settledLeftovers(id)).processes).toEqual([]);
  }

  if (cleanup === 'destroy') {
    if (listed.length > 0) await (await Container.get(id, { stateRoot: root })).destroy();
  } else {
    const next = await runScript(`
      const c = new Container({ stateRoot: ${JSON.stringify(root)} });
      await c.spawn(['true']).wait();
      await c.destroy();
    `);
    expect(next.stderr).toBe('');
  }
  const left = await settledLeftovers(id);
  expect(left).toEqual({ stateEntries: [], cgroups: [], processes: [], mounts: [] });
  expect(leftoverCount(left)).toBe(0);
});

/**
 * process.exit() in the middle of a spawn, at each step Node reaches while it makes the
 * container: Node's exit handlers end the container and must not wait for its helper. At
 * 'cgroup-made' the helper's worker has its plan and waits at the cgroup gate, whose other end
 * Node holds; the pool thread that reads its report waits for it, and Node's exit waits for that
 * thread, unless the exit closes the gate.
 */
const EXIT_STEPS = ['directory-made', 'cgroup-made', 'helper-reported'];

test.each(EXIT_STEPS)('process.exit() at %s during spawn(): Node exits, and nothing is left', async (step) => {
  const id = uniqueId(`exit-at-${step}`);
  const result = await runScript(
    `
    const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(root)} });
    c.spawn(['sleep', '60'], { stdio: 'ignore' });
    await new Promise(() => setInterval(() => undefined, 1000));
    `,
    { TS_CONTAINER_TEST_EXIT_AT: step },
    20000,
  );
  // Killed by the timeout (SIGKILL, no status) if the exit hung.
  expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: TEST_EXIT_STATUS, signal: null, stderr: '' });
  const left = await settledLeftovers(id);
  expect(left).toEqual({ stateEntries: [], cgroups: [], processes: [], mounts: [] });
});
