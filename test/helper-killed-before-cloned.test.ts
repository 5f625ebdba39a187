/**
 * A helper killed between cloning the container's process and telling Node about it
 * (issue 9, item 14). With CLONE_PARENT the process is Node's child from the moment it
 * exists, but Node hears its pidfd only in the "cloned" message: before the fix it could
 * neither kill nor reap it, and a zombie child of Node stayed, even after destroy().
 *
 * The helper's test-pause step "clone-report" stops it right between the clone and that
 * message; the test kills it there, every time. Afterwards this (Node) process has no
 * child left from the container: no zombie, and nothing alive in another PID namespace.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib/index';
import { waitForFile } from './support/node-script';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';

const rootfs = ensureBusyboxRootfs();
let stateRoot: string;
const live: Container[] = [];

beforeEach(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-clone-report-'));
});

afterEach(async () => {
  delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
  delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  await Promise.all(live.splice(0).map((c) => c.destroy().catch(() => undefined)));
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

/** Children of this process that are zombies or live in another PID namespace. */
function containerChildren(): string[] {
  const ownPidNs = fs.readlinkSync('/proc/self/ns/pid');
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(ppid) !== process.pid) return false;
        return state === 'Z' || fs.readlinkSync(`/proc/${p}/ns/pid`) !== ownPidNs;
      } catch {
        return false;
      }
    })
    .map((p) => `${p}: ${fs.readFileSync(`/proc/${p}/stat`, 'utf8').trim()}`);
}

/** Pauses the next helper at "clone-report" and kills it there once it has stopped. */
async function killHelperAtCloneReport(pauseFile: string): Promise<void> {
  const [reached, pid] = await waitForFile(pauseFile);
  expect(reached).toBe('helper:clone-report');
  delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
  delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  process.kill(Number(pid), 'SIGKILL');
}

function pauseNextHelper(): string {
  const pauseFile = path.join(stateRoot, '.pause');
  process.env.TS_CONTAINER_TEST_PAUSE_AT = 'helper:clone-report';
  process.env.TS_CONTAINER_TEST_PAUSE_FILE = pauseFile;
  return pauseFile;
}

test('spawn: the helper killed before "cloned" leaves no child of Node, before and after destroy()', async () => {
  const c = new Container({ rootfs, stateRoot });
  live.push(c);
  const pauseFile = pauseNextHelper();
  const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  const failed = new Promise<Error>((resolve) => main.once('error', resolve));
  await killHelperAtCloneReport(pauseFile);
  expect((await failed).message).toMatch(/helper killed by signal 9/);
  expect(containerChildren()).toEqual([]);
  await c.destroy();
  expect(containerChildren()).toEqual([]);
});

test('exec: the helper killed before "cloned" leaves no child of Node, before and after destroy()', async () => {
  const c = new Container({ rootfs, stateRoot });
  live.push(c);
  const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await main.started;
  const pauseFile = pauseNextHelper();
  const child = c.exec(['true'], { stdio: 'ignore' });
  const failed = new Promise<Error>((resolve) => child.once('error', resolve));
  await killHelperAtCloneReport(pauseFile);
  expect((await failed).message).toMatch(/helper killed by signal 9/);
  // The main process is the one child of Node in the container's PID namespace.
  expect(containerChildren()).toHaveLength(1);
  expect(containerChildren()[0]).toMatch(new RegExp(`^${main.pid}: `));
  await c.destroy();
  expect(containerChildren()).toEqual([]);
});
