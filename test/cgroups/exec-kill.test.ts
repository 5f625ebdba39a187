/**
 * exec'd processes join the container's cgroup (seen from inside and from the host) and
 * count against its limits; c.kill() reaches every process in the cgroup, not only the
 * main one.
 */
import * as fs from 'node:fs';
import {
  cgroupTestFile,
  eventually,
  findPidInCgroup,
  hierarchies,
  hostCgroupDir,
  SLOW_DEADLINE_MS,
  pidAlive,
  procsOf,
  SLOW_TEST_TIMEOUT_MS,
  startedAndPrinted,
} from './support';
import * as path from 'node:path';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

const { parent, make } = cgroupTestFile('exec');

test("an exec'd process is in the main process's cgroup: the same /proc/self/cgroup inside, listed in cgroup.procs outside", async () => {
  const c = make({ resources: { pids: 32, memory: '64m' } });
  const main = c.spawn(['sh', '-c', 'cat /proc/self/cgroup; echo ready; exec sleep 60'], { stdio: 'pipe' });
  const mainOut = await startedAndPrinted(main, 'ready');
  const mainCgroup = mainOut.replace('ready\n', '');

  const inside = await c.exec(['cat', '/proc/self/cgroup'], { stdio: 'pipe' }).output();
  expect(inside.exitCode).toBe(0);
  expect(inside.stdout).toBe(mainCgroup);
  // A cgroup namespace: the container's cgroup is its root in every hierarchy.
  for (const line of inside.stdout.trim().split('\n')) expect(line).toMatch(/:\/$/);

  // Host side: the exec'd sleeper is listed in the container cgroup of every hierarchy.
  const e = c.exec(['sleep', '77'], { stdio: 'pipe' });
  await e.started;
  for (const { hierarchy } of hierarchies()) {
    const dir = path.join(hierarchy.mount, parent, c.id);
    const pid = await findPidInCgroup(dir, 'sleep 77');
    expect(procsOf(dir)).toEqual(expect.arrayContaining([main.pid, pid]));
    // And /proc/<pid>/cgroup on the host names the container's cgroup.
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`${parent}/${c.id}\n`);
  }
});

test("exec'd processes count against the container's pids limit", async () => {
  const c = make({ resources: { pids: 4 } });
  const main = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  // main (1) + two exec'd sleepers (2, 3) + an exec'd sh (4): the sh's first fork fails.
  const s1 = c.exec(['sleep', '60']);
  const s2 = c.exec(['sleep', '60']);
  await Promise.all([s1.started, s2.started]);
  expect((await c.stats()).pids.current).toBe(3);
  const out = await c.exec(['sh', '-c', 'sleep 1 & echo forked; wait'], { stdio: 'pipe' }).output();
  expect(out.stderr).toMatch(/can't fork/);
  expect(out.stdout).not.toContain('forked');
  // A third sleeper fills the limit; one more exec would be a fifth process and must not run.
  const s3 = c.exec(['sleep', '60']);
  await s3.started;
  expect((await c.stats()).pids.current).toBe(4);
  const extra = c.exec(['sh', '-c', 'echo ran'], { stdio: 'pipe' });
  const result = await extra.output().then(
    (o) => ({ ran: o.stdout.includes('ran'), detail: JSON.stringify(o) }),
    (error: Error) => ({ ran: false, detail: String(error) }),
  );
  expect(result).toMatchObject({ ran: false });
  expect((await c.stats()).pids.current).toBeLessThanOrEqual(4);
});

test("an exec'd process counts against the container's memory", async () => {
  const c = make({ resources: { memory: '64m', memorySwap: '64m' } });
  const main = c.spawn(['sh', '-c', 'echo ready; read line'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  const before = (await c.stats()).memory.current;
  // dd fills a 20 MiB buffer from /dev/zero, then blocks writing it to a pipe nobody reads,
  // holding the buffer until the exec's shell reads its line and the pipe goes.
  const e = c.exec(['sh', '-c', 'exec 3<&0; dd if=/dev/zero bs=20M count=1 2>/dev/null | read y <&3'], { stdio: 'pipe' });
  await e.started;
  // The kernel's own count of the container's memory.
  const grown = async (): Promise<boolean> => (await c.stats()).memory.current - before > 15 * 1024 * 1024;
  expect(await eventually(grown, SLOW_DEADLINE_MS, 100)).toBe(true);
  e.stdin!.end('\n');
  expect((await e.wait()).exitCode).toBe(0);
  main.stdin!.end('\n');
}, SLOW_TEST_TIMEOUT_MS);

test("c.kill() reaches exec'd processes, not only the main one", async () => {
  const c = make();
  const main = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  const e1 = c.exec(['sleep', '61']);
  const e2 = c.exec(['sh', '-c', 'sleep 62 & wait']);
  await Promise.all([e1.started, e2.started]);
  const dir = hostCgroupDir(parent, c.id, 'pids');
  const sleeper = await findPidInCgroup(dir, 'sleep 62');

  expect(c.kill()).toBe(true);
  const [m, s1, s2] = await Promise.all([main.wait(), e1.wait(), e2.wait()]);
  expect(m.signal).toBe('SIGKILL');
  expect(s1.signal).toBe('SIGKILL');
  expect(s2.signal).toBe('SIGKILL');
  // The grandchild that no ContainerProcess stands for is gone too.
  expect(await eventually(() => !pidAlive(sleeper))).toBe(true);
});

test("c.kill('SIGTERM') reaches exec'd processes; PID 1 without a handler stays", async () => {
  const c = make();
  const main = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  const e1 = c.exec(['sleep', '61']);
  const e2 = c.exec(['sleep', '62']);
  await Promise.all([e1.started, e2.started]);
  c.kill('SIGTERM');
  const [s1, s2] = await Promise.all([e1.wait(), e2.wait()]);
  expect(s1.signal).toBe('SIGTERM');
  expect(s2.signal).toBe('SIGTERM');
  // The kernel shields a PID namespace's init from signals it does not handle.
  await new Promise((r) => setTimeout(r, 200));
  expect(main.running).toBe(true);
  expect(procsOf(hostCgroupDir(parent, c.id, 'pids'))).toEqual([main.pid]);
});

test('the cgroup goes once the main process exits and its execs are done, without destroy()', async () => {
  const { Container } = await import('../../lib');
  const { rootfs } = await import('./support');
  // Not tracked by make(): nothing destroys it; the library must clean up on its own. Its
  // stopped entry stays in its state root, as a stopped container's does: a temporary one.
  const stateRoot = tempDir('tsc-exec-undestroyed-');
  const c = new Container({ rootfs, readonly: true, cgroupParent: parent, stateRoot, resources: { pids: 16 } });
  const main = c.spawn(['sh', '-c', 'echo ready; read x'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  const e = c.exec(['sh', '-c', 'echo ready; read x'], { stdio: 'pipe' });
  await startedAndPrinted(e, 'ready');
  main.stdin!.end('\n');
  expect((await main.wait()).exitCode).toBe(0);
  e.stdin!.end('\n');
  await e.wait();
  // afterEach checks (with a wait) that no cgroup is left below the parent.
});

afterAll(() => {
  removeTempDirs();
});
