/**
 * A cgroupParent shared with other programs is safe: the sweep of cgroups left by dead runs
 * touches only cgroups ts-container made (marked), so a foreign process in a sibling cgroup
 * survives every sweep, however old its cgroup; a dead run's container cgroup is swept at
 * once (its lock tells it apart, not its age); a planted state record naming a foreign cgroup
 * and process kills nothing; a hierarchy root is refused as a parent; a parent the library
 * made goes with its last container, and one that was there before stays.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../../lib';
import { processStartTime } from '../../lib/state/process-identity';
import { collect, removeScripts, runScript, startScript } from '../support/node-script';
import { eventually, hierarchies, pidAlive, rootfs, sleep, SLOW_DEADLINE_MS, SLOW_TEST_TIMEOUT_MS } from './support';
import { foreignCgroup, makeCgroupEverywhere, removeCgroupEverywhere } from './foreign-cgroups';
import { RUN_TAG } from '../support/unique';

const tag = `tsc-test-parent-${RUN_TAG}`;
let stateRoot: string;

beforeAll(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-parent-safety-'));
});

afterAll(() => {
  removeScripts();
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

function existsEverywhere(rel: string): boolean[] {
  return hierarchies().map(({ hierarchy }) => fs.existsSync(path.join(hierarchy.mount, rel)));
}

/** A fresh Node process that makes (and destroys) one container below the parent: its first make sweeps the parent. */
async function makeOneIn(parent: string, root = stateRoot): Promise<void> {
  // A fresh Node process loads the library through tsx first: more than runScript's default
  // 30 s in the emulated guest.
  const result = await runScript(`
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true, stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(parent)} });
    const status = await c.spawn(['true'], { stdio: 'ignore' }).wait();
    await c.destroy();
    console.log(JSON.stringify(status));
  `, {}, SLOW_DEADLINE_MS);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
}

test('a foreign process in a sibling cgroup of a custom parent survives every sweep; a dead run is swept at once', async () => {
  const parent = `/${tag}-shared`;
  const foreign = foreignCgroup(`${parent}/foreign-service`);
  try {
    // Older than any age a sweep could wait for.
    await sleep(10_500);
    // A run that dies with a container below the same parent: its cgroup is a leftover.
    const dying = startScript(`
      const c = new Container({ id: 'left-behind', rootfs: ${JSON.stringify(rootfs)}, readonly: true, stateRoot: ${JSON.stringify(stateRoot)}, cgroupParent: ${JSON.stringify(parent)} });
      const p = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
      await p.started;
      console.log('started');
      await new Promise(() => undefined);
    `);
    await new Promise<void>((resolve) => dying.stdout?.once('data', () => resolve()));
    dying.kill('SIGKILL');
    await collect(dying);
    expect(existsEverywhere(`${parent}/left-behind`).some(Boolean)).toBe(true);

    for (let run = 0; run < 3; run++) await makeOneIn(parent);

    expect(pidAlive(foreign.pid)).toBe(true);
    for (const dir of foreign.dirs) expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()).toBe(String(foreign.pid));
    // The dead run's cgroup went with the first sweep, without waiting for it to age.
    expect(existsEverywhere(`${parent}/left-behind`)).toEqual(hierarchies().map(() => false));
  } finally {
    foreign.process.kill('SIGKILL');
    await eventually(() => !pidAlive(foreign.pid));
    await sleep(100);
    removeCgroupEverywhere(`${parent}/foreign-service`);
  }
  // The parent was there before ts-container (the foreign program made it): it stays until its owner removes it.
}, SLOW_TEST_TIMEOUT_MS);

test('a planted state record naming a foreign cgroup and process makes the sweep kill nothing', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-planted-'));
  const foreign = foreignCgroup(`/${tag}-victim`);
  try {
    const startTime = processStartTime(foreign.pid) as string;
    const unified = hierarchies().find(({ label }) => label === 'unified')?.hierarchy;
    const dir = path.join(root, 'planted');
    const plant = (): void => {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'lock'), '');
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ options: {}, argv: ['sleep'], process: {} }));
      fs.writeFileSync(
        path.join(dir, 'state.json'),
        JSON.stringify({
          version: 1, id: 'planted', created: new Date().toISOString(), phase: 'started', detached: false, restart: 'no',
          annotations: {}, command: ['sleep'], rootfs: null,
          cgroup: { unified: unified ? path.join(unified.mount, `/${tag}-victim`) : null, v1: foreign.dirs.filter((d) => !unified || !d.startsWith(unified.mount + '/')) },
          pid: foreign.pid, startTime, makerPid: foreign.pid, makerStartTime: startTime,
        }),
      );
      fs.writeFileSync(
        path.join(dir, 'run.json'),
        JSON.stringify({ pid: foreign.pid, startTime, startedAt: null, finishedAt: null, exited: false, exitCode: null, signal: null, restartCount: 0, monitorPid: foreign.pid, monitorStartTime: startTime }),
      );
    };
    plant();
    await makeOneIn(`/${tag}-planted-parent`, root);
    expect(pidAlive(foreign.pid)).toBe(true);
    for (const d of foreign.dirs) expect(fs.existsSync(d)).toBe(true);
    // Deleting it (by force) ends nothing foreign either.
    plant();
    await (await Container.get('planted', { stateRoot: root })).destroy();
    expect(pidAlive(foreign.pid)).toBe(true);
    plant();
    await Container.remove('planted', { stateRoot: root, force: true });
    expect(pidAlive(foreign.pid)).toBe(true);
    for (const d of foreign.dirs) expect(fs.existsSync(d)).toBe(true);
  } finally {
    foreign.process.kill('SIGKILL');
    await eventually(() => !pidAlive(foreign.pid));
    await sleep(100);
    removeCgroupEverywhere(`/${tag}-victim`);
    fs.rmSync(root, { recursive: true, force: true });
  }
}, SLOW_TEST_TIMEOUT_MS);

test.each(['/', '//', '/.', '.'])('cgroupParent %j (a hierarchy root) is refused with a TypeError', (parent) => {
  expect(() => new Container({ rootfs, cgroupParent: parent })).toThrow(TypeError);
  expect(() => new Container({ rootfs, cgroupParent: parent })).toThrow(/cgroupParent: .*root of the cgroup hierarchy/);
});

test('a parent inside a container cgroup is refused with a CgroupError, and nothing is made', async () => {
  const outer = new Container({ id: `${tag}-outer`, rootfs, readonly: true, stateRoot, cgroupParent: `/${tag}-outer-parent` });
  const p = outer.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await p.started;
  try {
    const inner = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: `/${tag}-outer-parent/${tag}-outer/nested` });
    const error = await inner.spawn(['true'], { stdio: 'ignore' }).wait().catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'CgroupError', code: 'EINVAL', message: expect.stringMatching(/cgroup of a container/) });
    expect(existsEverywhere(`/${tag}-outer-parent/${tag}-outer/nested`)).toEqual(hierarchies().map(() => false));
  } finally {
    await outer.destroy();
  }
  expect(existsEverywhere(`/${tag}-outer-parent`)).toEqual(hierarchies().map(() => false));
});

test('a parent the library made goes with its last container (attached and detached); one that was there stays', async () => {
  const made = `/${tag}-made/nested`;
  const a = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: made });
  const b = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: made, detach: true });
  await a.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
  await b.spawn(['sleep', '1000']).started;
  await a.destroy();
  expect(existsEverywhere(made)).toEqual(hierarchies().map(() => true));
  // The last one, destroyed from another process.
  await (await Container.get(b.id, { stateRoot })).destroy();
  expect(existsEverywhere(made)).toEqual(hierarchies().map(() => false));
  expect(existsEverywhere(`/${tag}-made`)).toEqual(hierarchies().map(() => false));

  const existing = `/${tag}-existing`;
  makeCgroupEverywhere(existing);
  try {
    const c = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: existing });
    await c.spawn(['true'], { stdio: 'ignore' }).wait();
    await c.destroy();
    expect(existsEverywhere(existing)).toEqual(hierarchies().map(() => true));
  } finally {
    removeCgroupEverywhere(existing);
  }
});
