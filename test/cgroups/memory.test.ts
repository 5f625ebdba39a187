/**
 * memory: a process allocating past the limit is OOM-killed and the usage report says so;
 * a container within its limit reports no OOM kill; the limit is what the container sees.
 *
 * memorySwap equals memory everywhere: with swap on the host the allocation would
 * otherwise go to swap instead of meeting the OOM killer (where the kernel has no swap
 * accounting the library skips that file, and there is no swap to go to either).
 */
import { allocate, cgroupTestFile, collect, eventually, insideCgroupFile, SLOW_DEADLINE_MS, SLOW_TEST_TIMEOUT_MS, startedAndPrinted } from './support';

const { make } = cgroupTestFile('memory');

const MiB = 1024 * 1024;

const ALLOCATE_200M = allocate('200M');

test('a process allocating past memory is OOM-killed; stats and the usage report say so', async () => {
  const c = make({ resources: { memory: '32m', memorySwap: '32m' } });
  // The shell survives the OOM kill of its child, reports it, and waits on stdin.
  const p = c.spawn(['sh', '-c', `${ALLOCATE_200M}; echo "allocation: $?"; read line; echo bye`], { stdio: 'pipe' });
  const stdout = collect(p.stdout);
  await p.started;
  expect(await eventually(() => stdout.text().includes('allocation: '), SLOW_DEADLINE_MS)).toBe(true);
  // 128 + SIGKILL: the kernel's OOM killer, not a failed allocation.
  expect(stdout.text()).toContain('allocation: 137');

  const s = await c.stats();
  expect(s.memory.oomKills).toBeGreaterThan(0);
  expect(s.memory.limit).toBe(32 * MiB);
  // It reached the limit and no further.
  expect(s.memory.peak).toBeGreaterThan(24 * MiB);
  expect(s.memory.peak).toBeLessThanOrEqual(32 * MiB);
  expect(s.memory.current).toBeLessThan(32 * MiB);

  p.stdin!.end('\n');
  const status = await p.wait();
  expect(status.exitCode).toBe(0);
  expect(stdout.text()).toContain('bye');
  expect(status.usage?.oomKilled).toBe(true);
  expect(status.usage?.maxRssBytes).toBeGreaterThan(24 * MiB);
}, SLOW_TEST_TIMEOUT_MS);

test('the main process itself growing past memory is OOM-killed: SIGKILL, oomKilled true', async () => {
  const c = make({ resources: { memory: '32m', memorySwap: '32m' } });
  // PID 1 doubles a shell variable until the kernel kills it.
  const p = c.spawn(['sh', '-c', 'a=0123456789abcdef; while :; do a="$a$a"; done'], { stdio: 'pipe' });
  const status = await p.wait();
  expect(status).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  expect(status.usage?.oomKilled).toBe(true);
  expect(status.usage?.maxRssBytes).toBeGreaterThan(16 * MiB);
}, SLOW_TEST_TIMEOUT_MS);

test('a container within its limit reports oomKilled false', async () => {
  const c = make({ resources: { memory: '32m', memorySwap: '32m' } });
  const p = c.spawn(['sh', '-c', 'dd if=/dev/zero bs=8M count=1 2>/dev/null | wc -c'], { stdio: 'pipe' });
  const out = await p.output();
  expect(out).toMatchObject({ exitCode: 0, signal: null, stdout: `${8 * MiB}\n`, stderr: '' });
  expect(out.usage?.oomKilled).toBe(false);
  // The cgroup's peak saw dd's 8 MiB buffer.
  expect(out.usage?.maxRssBytes).toBeGreaterThan(8 * MiB);
  expect(out.usage?.maxRssBytes).toBeLessThanOrEqual(32 * MiB);
});

test('the memory limit is what the container reads in its own cgroup', async () => {
  const c = make({ resources: { memory: '48m', memorySwap: '48m' } });
  const file = insideCgroupFile('memory', 'memory.limit_in_bytes', 'memory.max');
  const p = c.spawn(['sh', '-c', `cat ${file}; echo x > ${file} && echo writable`], { stdio: 'pipe' });
  const out = await p.output();
  expect(out.stdout).toBe(`${48 * MiB}\n`);
  // Read-only: the container cannot raise its own limit.
  expect(out.stderr).toMatch(/Read-only file system/);
});

test('an exec that is OOM-killed reports oomKilled true; the main process keeps running', async () => {
  const c = make({ resources: { memory: '32m', memorySwap: '32m' } });
  // The main process waits for the test's word, however long the allocation takes.
  const main = c.spawn(['sh', '-c', 'echo ready; read line; echo bye'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  const e = c.exec(['sh', '-c', `${ALLOCATE_200M}; echo "allocation: $?"`], { stdio: 'pipe' });
  const out = await e.output();
  // 128 + SIGKILL for the exec's child, and the exec's shell, which reports it, lives on.
  expect(out).toMatchObject({ exitCode: 0, stdout: 'allocation: 137\n' });
  expect(out.usage?.oomKilled).toBe(true);
  expect(main.running).toBe(true);
  // A later exec that stays within the limit is not blamed for the earlier kill.
  const ok = await c.exec(['true']).wait();
  expect(ok.exitCode).toBe(0);
  expect(ok.usage?.oomKilled).toBe(false);
  main.stdin!.end('\n');
  expect(await main.output()).toMatchObject({ exitCode: 0, stdout: 'bye\n' });
}, SLOW_TEST_TIMEOUT_MS);
