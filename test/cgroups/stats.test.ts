/**
 * stats(): the numbers follow what the workload did: memory grows after it allocates
 * (a 20 MiB tmpfs file, then a 20 MiB shell variable), cpu after it works, pids with
 * its processes; the limits read back are those set.
 */
import { cgroupTestFile, startedAndPrinted, waitFor } from './support';

const { make } = cgroupTestFile('stats');

const MiB = 1024 * 1024;

test('memory.current grows after the workload allocates, and peak follows', async () => {
  const c = make({
    resources: { memory: '128m', memorySwap: '128m', pids: 32 },
    mounts: [{ type: 'tmpfs', target: '/data' }],
  });
  const p = c.spawn(
    [
      'sh',
      '-c',
      'echo ready; read a; head -c 20m /dev/zero > /data/blob; echo file; read b; ' +
        'x=$(head -c 20000000 /dev/zero | tr "\\0" a); echo var; read c; rm /data/blob; x=; echo freed; read d',
    ],
    { stdio: 'pipe' },
  );
  await startedAndPrinted(p, 'ready');
  const s0 = await c.stats();
  expect(s0.memory.limit).toBe(128 * MiB);
  expect(s0.pids).toEqual({ current: 1, limit: 32 });
  expect(s0.memory.current).toBeGreaterThan(0);
  expect(s0.memory.current).toBeLessThan(16 * MiB);

  // A 20 MiB file in a tmpfs is charged to the container's memory.
  p.stdin!.write('\n');
  await waitFor(p.stdout, 'file');
  const s1 = await c.stats();
  expect(s1.memory.current - s0.memory.current).toBeGreaterThan(19 * MiB);
  expect(s1.memory.peak).toBeGreaterThanOrEqual(s1.memory.current);

  // 20 MB more in a shell variable (and the pipeline that made it).
  p.stdin!.write('\n');
  await waitFor(p.stdout, 'var', 30000);
  const s2 = await c.stats();
  expect(s2.memory.current - s1.memory.current).toBeGreaterThan(15 * MiB);
  expect(s2.memory.peak).toBeGreaterThan(s0.memory.current + 35 * MiB);
  expect(s2.memory.oomKills).toBe(0);

  // Freed: current drops back, peak stays.
  p.stdin!.write('\n');
  await waitFor(p.stdout, 'freed');
  const s3 = await c.stats();
  expect(s3.memory.current).toBeLessThan(s2.memory.current - 15 * MiB);
  expect(s3.memory.peak).toBeGreaterThanOrEqual(s2.memory.peak);

  p.stdin!.end('\n');
  const status = await p.wait();
  expect(status.exitCode).toBe(0);
  expect(status.usage?.oomKilled).toBe(false);
  // The report's peak is the cgroup's: file and variable together.
  expect(status.usage?.maxRssBytes).toBeGreaterThan(35 * MiB);
});

test('cpu.usageNs grows after work and stands still while the container sleeps', async () => {
  const c = make();
  const p = c.spawn(
    ['sh', '-c', 'echo ready; read a; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo worked; read b'],
    { stdio: 'pipe' },
  );
  await startedAndPrinted(p, 'ready');
  const idle0 = (await c.stats()).cpu;
  await new Promise((r) => setTimeout(r, 300));
  const idle1 = (await c.stats()).cpu;
  // Blocked in read: next to no CPU (a few ms at most).
  expect(idle1.usageNs - idle0.usageNs).toBeLessThan(20e6);

  p.stdin!.write('\n');
  await waitFor(p.stdout, 'worked', 30000);
  const busy = (await c.stats()).cpu;
  expect(busy.usageNs - idle1.usageNs).toBeGreaterThan(50e6);
  // user + system is the same time, counted in coarser units (clock ticks on v1).
  expect(busy.userNs + busy.systemNs).toBeGreaterThan(0);
  expect(busy.userNs + busy.systemNs).toBeLessThan(busy.usageNs * 1.5 + 50e6);
  p.stdin!.end('\n');
  expect((await p.wait()).exitCode).toBe(0);
});

test('pids.current counts the processes the workload runs', async () => {
  const c = make({ resources: { pids: 20 } });
  const p = c.spawn(['sh', '-c', 'for i in 1 2 3 4 5; do sleep 60 & done; echo ready; read x'], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  expect((await c.stats()).pids).toEqual({ current: 6, limit: 20 });
});

test('stats() works as soon as the main process has printed (it runs, so it has not exited)', async () => {
  // Output can reach Node before the library marks the process as running; a user who waits
  // for output and then asks for stats must not be told that the process has exited.
  for (let i = 0; i < 5; i++) {
    const c = make();
    const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
    await waitFor(p.stdout, 'ready');
    await expect(c.stats()).resolves.toMatchObject({ pids: { current: 1 } });
    await c.destroy();
  }
});
