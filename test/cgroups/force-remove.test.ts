/**
 * `Container.remove(id, { force: true })` (the CLI's `delete -f ID`) finds and ends a
 * container's cgroups by the container's name, also when its state file is unreadable or
 * its state directory was deleted by hand under a running detached container; and the
 * waiting for killed processes to leave their cgroup never blocks Node's event loop.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../../lib';
import { observe } from '../../lib/state/observe';
import { ContainerDirectory } from '../../lib/state/container-directory';
import { killAndRemoveCgroups } from '../../lib/state/sweep';
import { endCgroupsNamed } from '../../lib/cgroups/stale-cgroups';
import { isHelperProcess } from '../../lib/cgroups/stale-cgroups';
import { eventually, hierarchies, onV1, pidAlive, procsOf, rootfs, sleep } from './support';
import { RUN_TAG } from '../support/unique';
import { testWhen } from '../support/skip';

let stateRoot: string;
const tag = `tsc-force-${RUN_TAG}`;

beforeAll(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-force-remove-'));
});

afterAll(() => {
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

/** The container's cgroup directories that exist now, in every hierarchy. */
function cgroupDirsOf(c: Container, parent?: string): string[] {
  return hierarchies()
    .map(({ hierarchy }) => path.join(hierarchy.mount, parent ?? path.posix.join(hierarchy.own, 'ts-container'), c.id))
    .filter((d) => fs.existsSync(d));
}

/** Host pids of the container, its monitor included (it holds the state lock and runs outside the cgroup). */
async function monitorOf(c: Container): Promise<number> {
  // The monitor records its run just after it reports the start: it may not be there yet.
  const file = path.join(stateRoot, c.id, 'run.json');
  let monitorPid = 0;
  const recorded = (): boolean => {
    try {
      monitorPid = (JSON.parse(fs.readFileSync(file, 'utf8')) as { monitorPid?: number }).monitorPid ?? 0;
    } catch {
      // not written yet
    }
    return monitorPid > 0;
  };
  expect(await eventually(recorded)).toBe(true);
  return monitorPid;
}

test('a detached container whose state directory was deleted by hand is found by name and ended', async () => {
  const c = new Container({ id: `${tag}-gone`, rootfs, readonly: true, stateRoot, detach: true, restart: 'always' });
  await c.spawn(['sleep', '1000']).started;
  const dirs = cgroupDirsOf(c);
  expect(dirs).toHaveLength(hierarchies().length);
  const inside = procsOf(dirs[0]);
  const monitor = await monitorOf(c);
  expect(inside.length).toBeGreaterThan(0);
  // The monitor is told apart from any other process (it runs the helper's sealed copy).
  expect(isHelperProcess(monitor)).toBe(true);
  expect(inside.some((pid) => isHelperProcess(pid))).toBe(false);
  expect(isHelperProcess(process.pid)).toBe(false);
  fs.rmSync(path.join(stateRoot, c.id), { recursive: true, force: true });

  await Container.remove(c.id, { stateRoot, force: true });
  expect(cgroupDirsOf(c)).toEqual([]);
  expect(await eventually(() => !pidAlive(monitor) && inside.every((pid) => !pidAlive(pid)))).toBe(true);
  // The id can be used again.
  const again = new Container({ id: c.id, rootfs, readonly: true, stateRoot });
  expect(await again.spawn(['true'], { stdio: 'ignore' }).wait()).toMatchObject({ exitCode: 0 });
  await again.destroy();
  // And an id with nothing of it anywhere is still not found.
  await expect(Container.remove(`${tag}-never`, { stateRoot, force: true })).rejects.toMatchObject({ code: 'ENOCONTAINER' });
});

test('a container whose state file is unreadable: remove --force ends its cgroups by name before it resolves', async () => {
  const parent = `/${tag}-parent`;
  const c = new Container({ id: `${tag}-corrupt`, rootfs, readonly: true, stateRoot, detach: true, cgroupParent: parent });
  await c.spawn(['sleep', '1000']).started;
  const inside = procsOf(cgroupDirsOf(c, parent)[0]);
  fs.writeFileSync(path.join(stateRoot, c.id, 'state.json'), '{"trunc');
  await Container.remove(c.id, { stateRoot, force: true });
  expect(cgroupDirsOf(c, parent)).toEqual([]);
  expect(fs.existsSync(path.join(stateRoot, c.id))).toBe(false);
  expect(await eventually(() => inside.every((pid) => !pidAlive(pid)))).toBe(true);
  // The parent the library made went with its last container.
  expect(hierarchies().map(({ hierarchy }) => fs.existsSync(path.join(hierarchy.mount, parent)))).toEqual(hierarchies().map(() => false));
});

// Processes frozen by the v1 freezer cannot die until thawed: their cgroup stays busy.
testWhen(onV1('freezer'), 'needs the v1 freezer')('waiting for killed processes to leave their cgroup lets the event loop run', async () => {
  const c = new Container({ id: `${tag}-frozen`, rootfs, readonly: true, stateRoot });
  const p = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await p.started;
  const freezer = hierarchies().find(({ hierarchy }) => hierarchy.controllers.includes('freezer'))?.hierarchy;
  const freezerDir = path.join(freezer?.mount ?? '', freezer?.own ?? '', 'ts-container', c.id);
  fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'FROZEN');
  const observed = observe(new ContainerDirectory(stateRoot, c.id));
  let turns = 0;
  const counter = setInterval(() => turns++, 1);
  // Thawed from a timer: the removal can end only if timers run while it waits.
  const thaw = setTimeout(() => fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'THAWED'), 300);
  try {
    await killAndRemoveCgroups(observed.record, observed.run);
  } finally {
    clearInterval(counter);
    clearTimeout(thaw);
    if (fs.existsSync(freezerDir)) fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'THAWED');
  }
  expect(turns).toBeGreaterThan(0);
  expect(cgroupDirsOf(c)).toEqual([]);
  await p.wait().catch(() => undefined);
  await c.destroy();
  await sleep(0);
});

// Two removers of one dead container's cgroups (a sweep in one process, remove --force in
// another) must not both go on: the one that ends last would remove, by path, the cgroups of
// a container made with the name in between, and kill its processes.
testWhen(onV1('freezer'), 'needs the v1 freezer')('remove --force while a sweep ends the same dead container waits for it, and a container made with the name at once keeps its cgroups', async () => {
  const c = new Container({ id: `${tag}-swept`, rootfs, readonly: true, stateRoot, detach: true });
  await c.spawn(['sleep', '1000']).started;
  const monitor = await monitorOf(c);
  const freezer = hierarchies().find(({ hierarchy }) => hierarchy.controllers.includes('freezer'))?.hierarchy;
  const freezerDir = path.join(freezer?.mount ?? '', freezer?.own ?? '', 'ts-container', c.id);
  const thaw = () => fs.existsSync(freezerDir) && fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'THAWED');
  // Frozen, its killed processes cannot leave: the sweep's removal stays under way.
  fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'FROZEN');
  try {
    // A dead run's cgroups, as a sweep finds them: no state directory, no monitor.
    fs.rmSync(path.join(stateRoot, c.id), { recursive: true, force: true });
    process.kill(monitor, 'SIGKILL');
    expect(await eventually(() => !pidAlive(monitor))).toBe(true);
    const swept = endCgroupsNamed(c.id, undefined);
    await sleep(50);
    expect(cgroupDirsOf(c)).toHaveLength(hierarchies().length);
    const removed = Container.remove(c.id, { stateRoot, force: true });
    await sleep(200);
    thaw();
    // Ended by the sweep it waited for: resolves, as if it had ended them itself.
    await removed;
    expect(cgroupDirsOf(c)).toEqual([]);
    const again = new Container({ id: c.id, rootfs, readonly: true, stateRoot });
    const p = again.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await p.started;
    expect(await swept).toBe(true);
    // Past a sweep's next round of kills (every 200 ms): the new container is untouched.
    await sleep(400);
    expect(cgroupDirsOf(again)).toHaveLength(hierarchies().length);
    expect(pidAlive(p.pid!)).toBe(true);
    await again.destroy();
    expect(await p.wait()).toMatchObject({ signal: 'SIGKILL' });
  } finally {
    thaw();
  }
});
