/**
 * Health checks as a user sees them (issue 13, readiness): a check that turns healthy, one that
 * turns unhealthy, the start period, the timeout, 'health' events, an image's Healthcheck, and a
 * detached container's health, run by its monitor, seen from another process and from the CLI.
 * Each rule runs twice: in the Node process that made the container, and in a detached one's monitor.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Container, ImageStore } from '../../lib';
import type { ContainerHealth, HealthStatus } from '../../lib';
import { useContainers } from '../support/containers';
import { tempDir, removeTempDirs } from '../support/temp-dirs';
import { buildOciLayout, busyboxImage } from '../support/image-fixtures';
import { editImageConfig } from '../support/oci-config-edit';
import { runScript, removeScripts } from '../support/node-script';
import { CLI_JS, NODE } from '../support/cli';

const stateRoot = tempDir('tsc-health-');
const { make } = useContainers(() => ({ stateRoot }));

afterAll(() => {
  removeScripts();
  removeTempDirs();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the first 'health' event of this status. */
function nextStatus(c: Container, status: HealthStatus): Promise<ContainerHealth> {
  return new Promise((resolve) => {
    const listener = (health: ContainerHealth): void => {
      if (health.status !== status) return;
      c.off('health', listener);
      resolve(health);
    };
    c.on('health', listener);
  });
}

/** Polls health() until `done` says so (the test's own timeout bounds it). */
async function healthWhen(c: Container, done: (h: ContainerHealth) => boolean): Promise<ContainerHealth> {
  for (;;) {
    const health = await c.health();
    if (done(health)) return health;
    await sleep(50);
  }
}

describe.each([
  ['run by the Node process that made it', false],
  ['run by the monitor of a detached container', true],
])('health checks %s', (_where, detach) => {
  test("a check that passes once the program is ready turns it healthy, with 'health' events for each change", async () => {
    const c = make({ detach, healthcheck: { test: ['CMD-SHELL', 'test -e /tmp/ready && echo up'], interval: 100, retries: 1000 } });
    const events: HealthStatus[] = [];
    c.on('health', (h) => events.push(h.status));
    const healthy = nextStatus(c, 'healthy');
    await c.create(['sh', '-c', 'sleep 0.5; touch /tmp/ready; exec sleep 60']);
    // Not started yet: no check has run.
    expect(await c.health()).toEqual({ status: 'starting', failingStreak: 0, log: [] });
    await c.start();
    const health = await healthy;
    const last = health.log[health.log.length - 1];
    expect(last).toMatchObject({ exitCode: 0, output: 'up\n' });
    expect(last.start).toBeInstanceOf(Date);
    expect(last.end.getTime()).toBeGreaterThanOrEqual(last.start.getTime());
    expect(health.failingStreak).toBe(0);
    // The failures before it are in the log (at most five kept), each with its exit code. A
    // detached container's health is read from the file its monitor writes, which may hold a
    // later (passing) check by then on a busy host; here the event comes with the first pass.
    expect(health.log.length).toBeLessThanOrEqual(5);
    const firstPass = health.log.findIndex((entry) => entry.exitCode === 0);
    if (!detach) expect(firstPass).toBe(health.log.length - 1);
    for (const entry of health.log.slice(0, firstPass)) expect(entry.exitCode).toBe(1);
    for (const entry of health.log.slice(firstPass)) expect(entry).toMatchObject({ exitCode: 0, output: 'up\n' });
    expect(events).toEqual(['starting', 'healthy']);
    expect((await c.state()).health?.status).toBe('healthy');
  });

  test('retries failures in a row turn it unhealthy; the log says what each check printed', async () => {
    const c = make({ detach, healthcheck: { test: ['CMD-SHELL', 'echo not yet; exit 3'], interval: 50, retries: 2 } });
    const unhealthy = nextStatus(c, 'unhealthy');
    c.spawn(['sleep', '60']);
    const health = await unhealthy;
    // Unhealthy from the second failure on; a detached container's state is read from the file
    // its monitor writes, which may hold a later check by then on a busy host.
    if (detach) expect(health.failingStreak).toBeGreaterThanOrEqual(2);
    else expect(health.failingStreak).toBe(2);
    expect(health.log).toHaveLength(Math.min(health.failingStreak, 5));
    for (const entry of health.log) expect(entry).toMatchObject({ exitCode: 3, output: 'not yet\n' });
  });

  test('failures in the start period do not count; without one, the first failure counts', async () => {
    const patient = make({ detach, healthcheck: { test: ['false'], interval: 50, retries: 1, startPeriod: 600_000 } });
    const strict = make({ detach, healthcheck: { test: ['false'], interval: 50, retries: 1 } });
    patient.spawn(['sleep', '60']);
    strict.spawn(['sleep', '60']);
    const duringPeriod = await healthWhen(patient, (h) => h.log.length >= 3);
    expect(duringPeriod).toMatchObject({ status: 'starting', failingStreak: 0 });
    expect(duringPeriod.log.every((e) => e.exitCode === 1)).toBe(true);
    const counted = await healthWhen(strict, (h) => h.log.length >= 3);
    expect(counted.status).toBe('unhealthy');
    expect(counted.failingStreak).toBeGreaterThanOrEqual(3);
  });

  test('a check that outlives its timeout is killed and fails', async () => {
    const c = make({ detach, healthcheck: { test: ['CMD', 'sleep', '1000'], interval: 50, timeout: 200, retries: 1 } });
    const unhealthy = nextStatus(c, 'unhealthy');
    c.spawn(['sleep', '60']);
    const health = await unhealthy;
    expect(health.log[0]).toMatchObject({ exitCode: -1, output: expect.stringMatching(/exceeded timeout/) });
    // Killed, not left running in the container: only the check now running may be there.
    for (let look = 0; look < 8; look++) {
      const commands = (await c.processes()).map((p) => p.command);
      expect(commands.filter((command) => command.includes('sleep 1000')).length).toBeLessThanOrEqual(1);
      await sleep(100);
    }
    // And the checks go on after one timed out: a second one is logged (each takes its 200 ms).
    expect((await healthWhen(c, (h) => h.log.length >= 2)).log.length).toBeGreaterThanOrEqual(2);
  });

  test('a paused container is not checked; the checks go on after resume', async () => {
    // A timeout long enough that `true` never fails by it, however slow an exec on a loaded host:
    // one failure after resume would turn it unhealthy again.
    const c = make({ detach, healthcheck: { test: ['true'], interval: 50, timeout: 5000, retries: 1 } });
    c.spawn(['sleep', '60']);
    await healthWhen(c, (h) => h.status === 'healthy');
    await c.pause();
    const pausedAt = Date.now();
    await sleep(600);
    // A check begun before the pause may end after it; none begins while paused.
    expect((await c.health()).log.filter((e) => e.start.getTime() > pausedAt)).toEqual([]);
    await c.resume();
    const resumedAt = Date.now();
    const after = await healthWhen(c, (h) => h.log.some((e) => e.start.getTime() >= resumedAt && e.exitCode === 0));
    expect(after.status).toBe('healthy');
  });

  test('a check whose program does not exist fails with the reason in its output', async () => {
    const c = make({ detach, healthcheck: { test: ['CMD', '/no/such/check'], interval: 50, retries: 1 } });
    const unhealthy = nextStatus(c, 'unhealthy');
    c.spawn(['sleep', '60']);
    const health = await unhealthy;
    expect(health.log[0].exitCode).toBe(-1);
    expect(health.log[0].output).toMatch(/ENOENT|No such file/);
  });
});

test("without a healthcheck, health() is 'none' and state() has no health", async () => {
  const c = make({});
  c.spawn(['sleep', '60']);
  expect(await c.health()).toEqual({ status: 'none', failingStreak: 0, log: [] });
  expect((await c.state()).health).toBeUndefined();
});

test("an image's Healthcheck applies (nanoseconds read as such); the option's NONE turns it off", async () => {
  const dataRoot = tempDir('tsc-health-data-');
  const layout = buildOciLayout(path.join(tempDir('tsc-health-layout-'), 'layout'), busyboxImage());
  editImageConfig(layout, 'latest', (config) => {
    // The image has no /tmp: the file goes to its writable layer.
    config.Healthcheck = { Test: ['CMD', '/bin/busybox', 'test', '-e', '/opt/app/ready'], Interval: 100_000_000, Retries: 1000 };
  });
  const [image] = await new ImageStore({ root: dataRoot }).import(layout);
  const c = make({ image: image.id, dataRoot });
  expect(c.config.healthcheck).toMatchObject({ argv: ['/bin/busybox', 'test', '-e', '/opt/app/ready'], interval: 100, retries: 1000 });
  const healthy = nextStatus(c, 'healthy');
  c.spawn(['/bin/busybox', 'sh', '-c', 'busybox touch /opt/app/ready; exec busybox sleep 60']);
  expect((await healthy).log.at(-1)?.exitCode).toBe(0);
  const off = make({ image: image.id, dataRoot, healthcheck: { test: ['NONE'] } });
  off.spawn(['/bin/busybox', 'sleep', '60']);
  expect(off.config.healthcheck).toBeNull();
  expect((await off.health()).status).toBe('none');
});

test("a detached container's health is seen by another process and by the CLI (list, state)", async () => {
  const c = make({ detach: true, healthcheck: { test: ['CMD-SHELL', 'test -e /tmp/ready'], interval: 50, retries: 1 } });
  await c.create(['sh', '-c', 'while ! test -e /tmp/go; do sleep 0.05; done; touch /tmp/ready; exec sleep 60']);
  await c.start();
  await healthWhen(c, (h) => h.status === 'unhealthy');
  const health = (id: string) => `console.log(JSON.stringify(await (await Container.get(${JSON.stringify(id)}, { stateRoot: ${JSON.stringify(stateRoot)} })).health()));`;
  const other = await runScript(health(c.id));
  expect(other.code).toBe(0);
  expect(JSON.parse(other.stdout)).toMatchObject({ status: 'unhealthy', failingStreak: expect.any(Number) });
  expect(JSON.parse(other.stdout).failingStreak).toBeGreaterThanOrEqual(1);
  const cli = (...args: string[]) => execFileSync(NODE, [CLI_JS, '--root', stateRoot, ...args], { encoding: 'utf8' });
  expect(cli('list')).toMatch(new RegExp(`${c.id} .* running \\(unhealthy\\)`));
  // The maker could go away now: the monitor goes on checking.
  c.exec(['touch', '/tmp/go']);
  await healthWhen(c, (h) => h.status === 'healthy');
  expect(JSON.parse((await runScript(health(c.id))).stdout)).toMatchObject({ status: 'healthy', failingStreak: 0 });
  expect(cli('list')).toMatch(new RegExp(`${c.id} .* running \\(healthy\\)`));
  expect(JSON.parse(cli('state', c.id)).health).toMatchObject({ status: 'healthy', log: expect.arrayContaining([expect.objectContaining({ exitCode: 0 })]) });
});

test("a restart by the monitor judges the new run afresh: its log holds only the new run's checks", async () => {
  const c = make({ detach: true, restart: 'on-failure:1', healthcheck: { test: ['CMD-SHELL', 'test -e /tmp/ready'], interval: 50, retries: 1000 } });
  c.spawn(['sh', '-c', 'touch /tmp/ready; while ! test -e /tmp/fail; do sleep 0.05; done; exit 1']);
  await healthWhen(c, (h) => h.status === 'healthy');
  c.exec(['touch', '/tmp/fail']);
  let state = await c.state();
  while (state.restartCount < 1 || state.status !== 'running') {
    await sleep(50);
    state = await c.state();
  }
  const startedAt = Date.parse(state.startedAt as string);
  const health = await healthWhen(c, (h) => h.status === 'healthy');
  expect(health.log.every((e) => e.start.getTime() >= startedAt)).toBe(true);
});

test('the CLI: run -d with --health-* flags; list and ps show the status, inspect the health', async () => {
  const cli = (...args: string[]) => execFileSync(NODE, [CLI_JS, '--root', stateRoot, ...args], { encoding: 'utf8' });
  const id = cli('run', '-d', '--health-cmd', 'test -e /tmp/ready', '--health-interval', '50ms', '--health-retries', '1', '--', 'sh', '-c', 'while ! test -e /tmp/go; do sleep 0.05; done; touch /tmp/ready; exec sleep 60').trim();
  const c = await Container.get(id, { stateRoot });
  try {
    expect(c.config.healthcheck).toEqual({ argv: ['/bin/sh', '-c', 'test -e /tmp/ready'], interval: 50, timeout: 30000, retries: 1, startPeriod: 0 });
    await healthWhen(c, (h) => h.status === 'unhealthy');
    expect(cli('list')).toMatch(new RegExp(`${id} .* running \\(unhealthy\\)`));
    c.exec(['touch', '/tmp/go']);
    await healthWhen(c, (h) => h.status === 'healthy');
    expect(cli('list')).toMatch(new RegExp(`${id} .* running \\(healthy\\)`));
    expect(cli('ps')).toMatch(new RegExp(`${id} .* Up [^\\n]*\\(healthy\\)`));
    const [inspected] = JSON.parse(cli('inspect', id));
    expect(inspected.State.Health).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    expect(inspected.State.Health.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: '' });
    expect(inspected.Config.Healthcheck).toEqual({ Test: ['CMD', '/bin/sh', '-c', 'test -e /tmp/ready'], Interval: 50e6, Timeout: 30e9, StartPeriod: 0, Retries: 1 });
  } finally {
    await c.destroy();
  }
});
