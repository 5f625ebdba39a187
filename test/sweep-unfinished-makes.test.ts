/**
 * A make (a state directory not yet renamed to its id) is left to its maker while the maker
 * lives, whichever pid namespace the maker is in: the sweep asks the make's lock, never a pid.
 * One whose maker died goes at the next sweep.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Container } from '../lib/index';
import { resetSweepsForTest, sweepStateRoot } from '../lib/state/sweep';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { uniqueId } from './support/unique';

const holders: ChildProcess[] = [];
afterAll(() => {
  for (const holder of holders) killGroup(holder);
  removeTempDirs();
});

async function sweep(root: string): Promise<void> {
  resetSweepsForTest();
  await sweepStateRoot(root);
}

/** A make as a maker leaves it mid-way: its pid in the name, its lock file, nothing else. */
function plantMake(root: string, makerPid: number): string {
  const dir = path.join(root, `.making-${uniqueId('make')}.${makerPid}.0badcafe`);
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** flock(1) and the program it runs, which inherits the lock. */
function killGroup(holder: ChildProcess): void {
  try {
    process.kill(-holder.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Holds `file`'s flock in another process group (flock(1)) until killed; resolves once it is held. */
async function holdLock(file: string): Promise<ChildProcess> {
  const holder = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo held; exec sleep 1000'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  holders.push(holder);
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`flock exited with ${code}`)));
  });
  return holder;
}

test("a make whose name holds a pid that is dead here stays while its lock is held (a maker in another pid namespace)", async () => {
  const root = tempDir('tsc-sweep-makes-');
  // The pid a maker in a child pid namespace would write: no process here has it.
  const dir = plantMake(root, 4_000_000);
  fs.writeFileSync(path.join(dir, 'lock'), '');
  const holder = await holdLock(path.join(dir, 'lock'));
  await sweep(root);
  expect(fs.existsSync(dir)).toBe(true);

  killGroup(holder);
  await new Promise((resolve) => holder.once('close', resolve));
  await sweep(root);
  expect(fs.existsSync(dir)).toBe(false);
});

test('a make with no lock file yet stays while it is young, and goes once it is old', async () => {
  const root = tempDir('tsc-sweep-makes-');
  const dir = plantMake(root, 4_000_000);
  await sweep(root);
  expect(fs.existsSync(dir)).toBe(true);
  const old = new Date(Date.now() - 10 * 60_000);
  fs.utimesSync(dir, old, old);
  await sweep(root);
  expect(fs.existsSync(dir)).toBe(false);
});

test("containers made while their state root is swept are untouched, and no make is left", async () => {
  const root = tempDir('tsc-sweep-makes-');
  const made: Container[] = [];
  for (let i = 0; i < 20; i++) {
    const c = new Container({ id: uniqueId(`swept-${i}`), stateRoot: root });
    made.push(c);
    const sweeping = sweep(root);
    await c.spawn(['true']).wait();
    await sweeping;
    expect(fs.readdirSync(root)).toContain(c.id);
  }
  for (const c of made) await c.destroy();
  expect(fs.readdirSync(root).filter((name) => name.startsWith('.making-'))).toEqual([]);
});
