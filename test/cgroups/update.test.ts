/**
 * update(): limits change on a running container, the container sees the new values in
 * its own cgroup, and the new limits hold (fewer pids: forks fail; less memory: OOM).
 */
import { allocate, cgroupTestFile, collect, eventually, insideCgroupFile, onV1, SLOW_TEST_TIMEOUT_MS, startedAndPrinted } from './support';

const { make } = cgroupTestFile('update');

const MiB = 1024 * 1024;

function pidsMax(): string {
  return insideCgroupFile('pids', 'pids.max', 'pids.max');
}

function memoryMax(): string {
  return insideCgroupFile('memory', 'memory.limit_in_bytes', 'memory.max');
}

async function readInside(c: { exec(argv: string[], o: { stdio: 'pipe' }): { output(): Promise<{ stdout: string; stderr: string }> } }, file: string): Promise<string> {
  const out = await c.exec(['cat', file], { stdio: 'pipe' }).output();
  expect(out.stderr).toBe('');
  return out.stdout.trim();
}

test('update raises memory and pids on a running container; the container reads the new values', async () => {
  const c = make({ resources: { memory: '64m', memorySwap: '64m', pids: 64 } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  expect(await readInside(c, pidsMax())).toBe('64');
  expect(await readInside(c, memoryMax())).toBe(String(64 * MiB));

  await c.update({ memory: '128m', memorySwap: '128m', pids: 256 });
  expect(await readInside(c, pidsMax())).toBe('256');
  expect(await readInside(c, memoryMax())).toBe(String(128 * MiB));
  const s = await c.stats();
  expect(s.memory.limit).toBe(128 * MiB);
  expect(s.pids.limit).toBe(256);
});

test('update({ memory, pids }) without memorySwap raises the memory limit of a container made with memorySwap = memory', async () => {
  // The issue's own example. On cgroup v2 memory.swap.max (0 here) stays as it is; on v1 the
  // kernel refuses memory.limit_in_bytes above memory.memsw.limit_in_bytes, so the
  // library has to carry memory+swap along, as it does when both are given.
  const c = make({ resources: { memory: '64m', memorySwap: '64m', pids: 64 } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  await c.update({ memory: '128m', pids: 256 });
  expect(await readInside(c, memoryMax())).toBe(String(128 * MiB));
  expect(await readInside(c, pidsMax())).toBe('256');
});

test('update lowering pids: forks past the new limit fail', async () => {
  const c = make({ resources: { pids: 64 } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  // Before: eight sleepers fit easily.
  const before = await c.exec(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 0.1 & done; wait; echo ok'], { stdio: 'pipe' }).output();
  expect(before).toMatchObject({ exitCode: 0, stdout: 'ok\n', stderr: '' });

  await c.update({ pids: 4 });
  expect((await c.stats()).pids.limit).toBe(4);
  // main (1) + exec'd sh (2) + two sleepers (3, 4): the third fork fails.
  const after = await c.exec(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait; echo ok'], { stdio: 'pipe' }).output();
  expect(after.stderr).toMatch(/can't fork/);
  expect(after.exitCode).not.toBe(0);
  expect((await c.stats()).pids.current).toBeLessThanOrEqual(4);
  expect(p.running).toBe(true);
});

test('update lowering memory: an allocation that fitted before is OOM-killed now', async () => {
  const c = make({ resources: { memory: '96m', memorySwap: '96m' } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 1000'], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  const fits = await c.exec(['sh', '-c', allocate('40M')], { stdio: 'pipe' }).wait();
  expect(fits.exitCode).toBe(0);
  expect(fits.usage?.oomKilled).toBe(false);

  // v1 checks memory <= memory+swap at each write; the library orders the writes.
  await c.update({ memory: '24m', memorySwap: '24m' });
  expect(await readInside(c, memoryMax())).toBe(String(24 * MiB));
  const killed = await c.exec(['sh', '-c', allocate('40M')], { stdio: 'pipe' }).wait();
  expect(killed).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  expect(killed.usage?.oomKilled).toBe(true);
  expect((await c.stats()).memory.oomKills).toBeGreaterThan(0);
  expect(p.running).toBe(true);
}, SLOW_TEST_TIMEOUT_MS);

test('update of cpus changes the quota the container reads', async () => {
  const c = make({ resources: { cpus: 0.5 } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  await c.update({ cpus: 1.25 });
  if (onV1('cpu')) {
    expect(await readInside(c, insideCgroupFile('cpu', 'cpu.cfs_quota_us', ''))).toBe('125000');
  } else {
    expect(await readInside(c, insideCgroupFile('cpu', '', 'cpu.max'))).toBe('125000 100000');
  }
});

test('a bad update is a TypeError naming the option, and changes nothing', async () => {
  const c = make({ resources: { pids: 64 } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  const stderr = collect(p.stderr);
  await startedAndPrinted(p, 'ready');
  await expect(c.update({ pids: 0 })).rejects.toThrow(TypeError);
  await expect(c.update({ pids: 0 })).rejects.toThrow(/^resources\.pids: /);
  await expect(c.update({ memory: 'lots' })).rejects.toThrow(/^resources\.memory: expected bytes/);
  expect(await eventually(async () => (await c.stats()).pids.limit === 64)).toBe(true);
  expect(await readInside(c, pidsMax())).toBe('64');
  expect(stderr.text()).toBe('');
});

test('update after the container has exited is refused', async () => {
  const c = make({ resources: { pids: 64 } });
  const p = c.spawn(['true']);
  await p.wait();
  await expect(c.update({ pids: 10 })).rejects.toThrow(/exited/);
});
