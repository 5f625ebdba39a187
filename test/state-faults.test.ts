/**
 * Faults of the host under the state root: out of fds, a full or read-only state root, and a
 * state directory deleted by hand under a running container. Each failure is a typed error
 * that keeps Node's code and names the step and the path, and nothing is left behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { Container, ContainerStateIOError } from '../lib/index';
import { collect, removeScripts, runScript, waitForFile, writeScript } from './support/node-script';
import { containerLeftovers, leftoverCount } from './support/container-leftovers';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { RUN_TAG } from './support/unique';

const mounts: string[] = [];

function mount(args: string[], target: string): void {
  execFileSync('mount', [...args, target]);
  mounts.push(target);
}

function unmount(target: string): void {
  execFileSync('umount', [target]);
  mounts.splice(mounts.lastIndexOf(target), 1);
}

/** A state root on its own tmpfs of 64 KiB. */
function tinyStateRoot(): string {
  const root = tempDir('tsc-faults-full-');
  mount(['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs'], root);
  return root;
}

/** Fills the file system under `dir` to the last byte. */
function fill(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'a');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Spawns `sleep` in another process that stops at `step` (test hooks) while the state root
 * is filled, then goes on; returns how its spawn failed (or that it started).
 */
async function spawnFillingAt(root: string, id: string, step: string): Promise<Record<string, unknown>> {
  const pauses = tempDir('tsc-faults-pause-');
  const script = runScript(
    `
      const { containerLeftovers, leftoverCount } = await import(${JSON.stringify(path.join(__dirname, 'support', 'container-leftovers'))});
      const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(root)} });
      const p = c.spawn(['sleep', '1000']);
      try {
        await p.started;
        console.log(JSON.stringify({ started: true }));
        await c.destroy();
      } catch (error) {
        // Counted while this process lives: its exit would clear what it still had.
        const left = leftoverCount(containerLeftovers(${JSON.stringify(id)}, ${JSON.stringify(root)}));
        console.log(JSON.stringify({ name: error.name, code: error.code, step: error.step, path: error.path, left }));
      }
    `,
    {
      TS_CONTAINER_TEST_PAUSE_AT: step,
      TS_CONTAINER_TEST_PAUSE_FILE: path.join(pauses, 'paused'),
      TS_CONTAINER_TEST_RESUME_FILE: path.join(pauses, 'resume'),
    },
  );
  await waitForFile(path.join(pauses, 'paused'));
  fill(root);
  fs.writeFileSync(path.join(pauses, 'resume'), '');
  const result = await script;
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

afterAll(() => {
  for (const target of mounts.reverse()) execFileSync('umount', ['-l', target]);
  removeTempDirs();
  removeScripts();
});

test('out of fds at any step of a spawn: an EMFILE error that names its step, and nothing left', async () => {
  const root = tempDir('tsc-faults-fds-');
  // A process with few fds, which uses all but `spare` of them before each spawn.
  const script = writeScript(`
    const fs = await import('node:fs');
    const { containerLeftovers, leftoverCount } = await import(${JSON.stringify(path.join(__dirname, 'support', 'container-leftovers'))});
    const root = ${JSON.stringify(root)};
    const warm = new Container({ stateRoot: root });
    await warm.spawn(['true'], { stdio: 'ignore' }).wait();
    await warm.destroy();
    for (let spare = 0; spare <= 24; spare++) {
      const fillers = [];
      try {
        for (;;) fillers.push(fs.openSync('/dev/null', 'r'));
      } catch {}
      for (let i = 0; i < spare; i++) fs.closeSync(fillers.pop());
      const id = 'fds-' + process.pid + '-' + spare;
      const c = new Container({ id, stateRoot: root });
      let outcome;
      try {
        const { exitCode } = await c.spawn(['true'], { stdio: 'pipe' }).output();
        outcome = { id, exitCode };
      } catch (error) {
        outcome = { id, name: error.name, code: error.code, step: error.step, path: error.path, message: error.message };
      }
      for (const fd of fillers) fs.closeSync(fd);
      // A failed spawn leaves nothing, before any destroy().
      if (outcome.exitCode === undefined) {
        const leftovers = containerLeftovers(id, root);
        outcome.left = leftoverCount(leftovers);
        if (outcome.left > 0) outcome.leftovers = leftovers;
      }
      await c.destroy();
      console.log(JSON.stringify(outcome));
    }
  `);
  const child = spawn('prlimit', ['--nofile=256:256', process.execPath, '--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collect(child, 120000);
  expect(result.stderr).toBe('');
  const outcomes = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(outcomes).toHaveLength(25);
  const failures = outcomes.filter((o) => o.exitCode === undefined);
  expect(failures.length).toBeGreaterThan(0);
  expect(outcomes.at(-1)).toMatchObject({ exitCode: 0 });
  for (const failure of failures) {
    expect(failure).toMatchObject({ code: 'EMFILE', step: expect.any(String) });
    expect({ step: failure.step, leftovers: failure.leftovers ?? 'none' }).toEqual({ step: failure.step, leftovers: 'none' });
    expect(failure.message).not.toMatch(/write ""/);
  }
  // Typed state errors name the file too.
  for (const failure of failures.filter((f) => f.name === 'ContainerStateIOError')) expect(failure.path).toEqual(expect.stringContaining(root));
  for (const { id } of outcomes) expect(leftoverCount(containerLeftovers(id as string, root))).toBe(0);
  expect(fs.readdirSync(root)).toEqual([]);
}, 180000);

test('a full state root: ENOSPC naming the step and the file, and nothing left', async () => {
  const root = tinyStateRoot();
  fill(root);
  const id = `full-${RUN_TAG}`;
  const c = new Container({ id, stateRoot: root });
  let caught: unknown;
  try {
    c.spawn(['true']);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ContainerStateIOError);
  expect(caught).toMatchObject({ code: 'ENOSPC', step: expect.stringMatching(/^write /), path: expect.stringContaining(root) });
  expect(fs.readdirSync(root)).toEqual(['filler']);

  // Full only once the directory is made, or once the program runs: a state write of the
  // spawn itself fails, and what was made (the program too) goes.
  for (const step of ['directory-made', 'helper-reported']) {
    fs.rmSync(path.join(root, 'filler'));
    const later = `later-${RUN_TAG}-${step}`;
    expect(await spawnFillingAt(root, later, step)).toMatchObject({
      name: 'ContainerStateIOError',
      code: 'ENOSPC',
      step: 'write state.json',
      path: expect.stringContaining(root),
      left: 0,
    });
    expect(fs.readdirSync(root)).toEqual(['filler']);
    expect(leftoverCount(containerLeftovers(later, root))).toBe(0);
  }
  unmount(root);
});

test('a read-only state root: destroy() ends the container, then throws EROFS naming the step and the path', async () => {
  const root = tempDir('tsc-faults-ro-');
  const id = `ro-${RUN_TAG}`;
  const c = new Container({ id, stateRoot: root, detach: true });
  try {
    const p = c.spawn(['sleep', '1000']);
    await p.started;
    // Read-only through a bind mount of its own: files open for writing do not keep it writable.
    mount(['--bind', root], root);
    execFileSync('mount', ['-o', 'remount,bind,ro', root]);
    await expect(c.destroy()).rejects.toThrow(ContainerStateIOError);
    await expect(c.destroy()).rejects.toMatchObject({ code: 'EROFS', step: expect.any(String), path: expect.stringContaining(root) });
    // The container itself is gone: only its state entry stays, which cannot be removed.
    const left = containerLeftovers(id, root);
    expect(left.processes).toEqual([]);
    expect(left.cgroups).toEqual([]);
    expect(fs.existsSync(`/proc/${p.pid}`)).toBe(false);
  } finally {
    if (mounts.includes(root)) unmount(root);
    if (fs.existsSync(path.join(root, id))) await c.destroy().catch(() => undefined);
  }
  // Writable again, the entry goes.
  await c.destroy();
  expect(leftoverCount(containerLeftovers(id, root))).toBe(0);
});

test('a state directory deleted by hand under a running detached container: remove --force ends it, and the id can be made again', async () => {
  const root = tempDir('tsc-faults-deleted-');
  const id = `deleted-${RUN_TAG}`;
  const c = new Container({ id, stateRoot: root, detach: true, restart: 'always' });
  const p = c.spawn(['sleep', '1000']);
  await p.started;
  // The monitor may make a file in the directory while it is removed (its run record and log
  // go through a temporary file and a rename): rmdir then meets ENOTEMPTY. Once the directory is
  // gone the monitor's writes fail, so removing again until it is gone ends; a loaded machine can
  // delay the monitor by seconds, hence a deadline rather than a fixed number of tries.
  removeDirectoryUnderWriter(path.join(root, id), 15000);
  try {
    await Container.remove(id, { stateRoot: root, force: true });
    const left = containerLeftovers(id, root);
    expect(left.processes).toEqual([]);
    expect(left.cgroups).toEqual([]);
  } finally {
    await Container.remove(id, { stateRoot: root, force: true }).catch(() => undefined);
  }
  const again = new Container({ id, stateRoot: root });
  try {
    const { exitCode } = await again.spawn(['true']).wait();
    expect(exitCode).toBe(0);
  } finally {
    await again.destroy();
  }
  expect(leftoverCount(containerLeftovers(id, root))).toBe(0);
});

function removeDirectoryUnderWriter(dir: string, deadlineMs: number): void {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || Date.now() > end) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
