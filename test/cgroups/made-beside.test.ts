/**
 * A container whose start spawn() waits for gets its cgroups made while the helper clones its
 * first process and builds its root (native/helper/cgroup_gate.h). What a user sees must not
 * change: the program starts in every one of its cgroups, and a cgroup that cannot be made
 * then fails the spawn with a CgroupError and nothing of the container left (no process, no
 * state directory, no writable layer, no fd), the program never having run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CgroupError } from '../../lib';
import { writableLayerPaths } from '../../lib/container/writable-layer';
import { assertNothingLeft, snapshot } from '../support/leftovers';
import { uniqueId } from '../support/unique';
import { cgroupsBelow, cgroupTestFile, emptyListing, hierarchies } from './support';

const { parent, make } = cgroupTestFile('beside');

test('the program starts in its own cgroup of every hierarchy', async () => {
  const id = uniqueId('beside-in');
  const c = make({ id });
  // The program's first look: each of its cgroups, bound below /sys/fs/cgroup, already holds
  // it (its PID 1, sh, and the cat it runs).
  const script = 'for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs; do if [ -e "$f" ]; then echo "$f:" $(cat "$f"); fi; done';
  const out = await c.spawn(['sh', '-c', script], { stdio: 'pipe' }).output();
  expect(out.exitCode).toBe(0);
  const lines = out.stdout.trim().split('\n');
  expect(lines.length).toBe(hierarchies().length);
  for (const line of lines) expect(line.split(': ')[1]?.split(' ')).toContain('1');
});

test('a cgroup that cannot be made once the helper runs: CgroupError, the program never ran, nothing left', async () => {
  const id = uniqueId('beside-fail');
  // A directory of the container's name in the last hierarchy made (unmarked: not a container's
  // leftover, so nothing removes it): the make fails on EEXIST after the others were made.
  const last = hierarchies()[hierarchies().length - 1].hierarchy;
  const blocker = path.join(last.mount, parent, id);
  fs.mkdirSync(path.dirname(blocker), { recursive: true });
  fs.mkdirSync(blocker);
  const seen = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-beside-'));
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-beside-state-'));
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-beside-data-'));
  const before = snapshot();
  try {
    const c = make({ id, stateRoot, dataRoot, mounts: [{ type: 'bind', source: seen, target: '/seen' }] });
    const p = c.spawn(['sh', '-c', 'touch /seen/ran']);
    const error = await p.started.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(CgroupError);
    expect(error).toMatchObject({ code: 'EEXIST' });
    expect(String((error as Error).message)).toContain(id);
    await expect(p.wait()).rejects.toBe(error);
    // Neither the program nor anything the helper cloned ran on or stays.
    await assertNothingLeft(before);
    expect(fs.readdirSync(seen)).toEqual([]);
    // No state directory, no writable layer, and of the cgroups only the directory that was there.
    expect(fs.readdirSync(stateRoot)).toEqual([]);
    const layer = writableLayerPaths(dataRoot, id);
    expect(fs.existsSync(layer.dir)).toBe(false);
    expect(fs.existsSync(layer.record)).toBe(false);
    const left = cgroupsBelow(parent);
    for (const { label, hierarchy } of hierarchies()) expect(left[label]).toEqual(hierarchy === last ? [id] : []);
  } finally {
    fs.rmdirSync(blocker);
    for (const dir of [seen, stateRoot, dataRoot]) fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(cgroupsBelow(parent)).toEqual(emptyListing());
});
