/**
 * A container's cgroups go primary directory last, and only once every other is gone: a
 * parent the library made (cgroupParent) is removed with the last container in it by whoever
 * sees its primary directory empty, so a container whose cgroup still holds on in one v1
 * hierarchy must keep its primary directory meanwhile. Otherwise another container's removal
 * takes the parent from the hierarchies where it is empty and leaves it, unmarked for removal
 * by anyone, in the one still busy.
 *
 * Made deterministic with the v1 freezer: a host process put in the first container's pids
 * cgroup and frozen in a freezer cgroup of the test's own cannot leave (nor die of the removal's
 * SIGKILL) until the test thaws it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../../lib';
import { hostHierarchies } from '../../lib/cgroups/hierarchy';
import { eventually, hierarchies, onV1, pidAlive, removeParent, rootfs } from './support';
import { RUN_TAG } from '../support/unique';
import { testWhen } from '../support/skip';

const parent = `/tsc-test-removal-order-${RUN_TAG}`;
let stateRoot: string;
let freezerDir: string | undefined;

beforeAll(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-removal-order-'));
});

afterAll(async () => {
  fs.rmSync(stateRoot, { recursive: true, force: true });
  // The test's freezer cgroup, once its (thawed, killed) holder has left; and the parent, if a failure left it.
  const frozen = freezerDir;
  if (frozen !== undefined) {
    await eventually(() => {
      try {
        fs.rmdirSync(frozen);
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ENOENT';
      }
      return true;
    }, 10_000);
  }
  removeParent(parent);
});

function v1Dir(controller: string, ...parts: string[]): string {
  const hierarchy = hostHierarchies().v1.find((h) => h.controllers.includes(controller));
  if (!hierarchy) throw new Error(`no v1 ${controller} hierarchy`);
  return path.join(hierarchy.mount, ...parts);
}

const parentDirs = (): string[] => hierarchies().map(({ hierarchy }) => path.join(hierarchy.mount, parent)).filter((d) => fs.existsSync(d));

testWhen(onV1('freezer') && onV1('pids') && hostHierarchies().unified !== null, 'needs the v1 freezer and pids controllers beside a unified hierarchy (primary)')(
  "a container's primary cgroup outlasts its others, and the parent goes from every hierarchy with the last of them",
  async () => {
    const primary = hostHierarchies().unified!;
    const first = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: parent });
    // Running: a container's cgroups go at its main process's exit.
    await first.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    // A host process in the first container's pids cgroup, frozen elsewhere: that cgroup stays busy.
    const holder = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const pid = holder.pid!;
    freezerDir = v1Dir('freezer', `tsc-test-removal-order-frozen-${RUN_TAG}`);
    fs.mkdirSync(freezerDir);
    try {
      fs.writeFileSync(path.join(v1Dir('pids', parent, first.id), 'cgroup.procs'), String(pid));
      fs.writeFileSync(path.join(freezerDir, 'cgroup.procs'), String(pid));
      fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'FROZEN');
      await first.destroy();
      // Its removal retries in the background: the pids directory is busy, so the primary stays.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(fs.existsSync(v1Dir('pids', parent, first.id))).toBe(true);
      expect(fs.existsSync(path.join(primary.mount, parent, first.id))).toBe(true);
      // Another container of the parent ends meanwhile: the parent is not empty, so it stays whole.
      const second = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: parent });
      expect(await second.spawn(['true'], { stdio: 'ignore' }).wait()).toMatchObject({ exitCode: 0 });
      await second.destroy();
      expect(parentDirs()).toHaveLength(hierarchies().length);
    } finally {
      fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'THAWED');
      holder.kill('SIGKILL');
    }
    // Thawed, the holder dies (of the removal's SIGKILL or the test's), the first container's
    // cgroups go, primary last, and the parent with them, in every hierarchy.
    expect(await eventually(() => !pidAlive(pid), 10_000)).toBe(true);
    expect(await eventually(() => parentDirs().length === 0, 10_000)).toBe(true);
  },
);

testWhen(onV1('freezer') && onV1('pids') && hostHierarchies().unified !== null, 'needs the v1 freezer and pids controllers beside a unified hierarchy (primary)')(
  "a detached container's monitor removes its cgroups primary last, and none of them twice",
  async () => {
    const primary = hostHierarchies().unified!;
    const c = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: parent, detach: true });
    await c.spawn(['sleep', '1000']).started;
    const holder = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const pid = holder.pid!;
    freezerDir = v1Dir('freezer', `tsc-test-removal-order-frozen-${RUN_TAG}`);
    fs.mkdirSync(freezerDir, { recursive: true });
    try {
      fs.writeFileSync(path.join(v1Dir('pids', parent, c.id), 'cgroup.procs'), String(pid));
      fs.writeFileSync(path.join(freezerDir, 'cgroup.procs'), String(pid));
      fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'FROZEN');
      // Its program ends: the monitor removes the cgroups, and meets the busy pids directory.
      c.kill('SIGKILL');
      expect(await c.wait()).toMatchObject({ signal: 'SIGKILL' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(fs.existsSync(v1Dir('pids', parent, c.id))).toBe(true);
      expect(fs.existsSync(path.join(primary.mount, parent, c.id))).toBe(true);
    } finally {
      fs.writeFileSync(path.join(freezerDir, 'freezer.state'), 'THAWED');
      holder.kill('SIGKILL');
    }
    // Thawed and killed, the holder leaves, and the monitor's next attempts remove the rest.
    expect(await eventually(() => !pidAlive(pid), 10_000)).toBe(true);
    expect(await eventually(() => hierarchies().every(({ hierarchy }) => !fs.existsSync(path.join(hierarchy.mount, parent, c.id))), 10_000)).toBe(true);
    await c.destroy();
  },
);
