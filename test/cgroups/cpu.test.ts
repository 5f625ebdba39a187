/**
 * cpu: `cpus: 0.5` holds busy loops to about half a CPU (measured from the cgroup's own
 * usage over wall time, not by timing the test), the quota is what the container sees,
 * and cpuset / cpuWeight reach the kernel.
 */
import { cgroupTestFile, insideCgroupFile, onV1, readHostCgroupFile, sleep, startedAndPrinted, waitFor } from './support';

const { parent, make } = cgroupTestFile('cpu');

const BUSY = 'while :; do :; done';

/** CPU time the container used per second of wall time, over `ms`. */
async function cpuRate(c: { stats(): Promise<{ cpu: { usageNs: number } }> }, ms: number): Promise<number> {
  const u0 = (await c.stats()).cpu.usageNs;
  const t0 = process.hrtime.bigint();
  await sleep(ms);
  const u1 = (await c.stats()).cpu.usageNs;
  const t1 = process.hrtime.bigint();
  return (u1 - u0) / Number(t1 - t0);
}

test('cpus: 0.5 holds four busy loops to about half a CPU', async () => {
  // The top weight keeps a loaded host (other test workers, a VM) from starving the
  // container below its quota: the quota alone is what holds it back.
  const c = make({ resources: { cpus: 0.5, cpuWeight: 10000 } });
  // Four loops: without the quota they would take every CPU of a 2-CPU host.
  const p = c.spawn(['sh', '-c', `(${BUSY}) & (${BUSY}) & (${BUSY}) & echo ready; ${BUSY}`], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  await sleep(300); // past the first period, where the quota is not yet in force
  const rate = await cpuRate(c, 1500);
  expect(rate).toBeGreaterThan(0.3);
  expect(rate).toBeLessThan(0.7);
  // Throttling counters are reported (how often the kernel counts a period as throttled
  // varies: 6.18's task-based throttling can hold the group to its quota with none).
  const s = await c.stats();
  expect(s.cpu.throttledPeriods).toBeGreaterThanOrEqual(0);
  expect(s.cpu.throttledNs).toBeGreaterThanOrEqual(0);
});

test('the quota is what the container reads in its own cgroup', async () => {
  const c = make({ resources: { cpus: 1.5 } });
  const v2 = !onV1('cpu');
  const files = v2
    ? [insideCgroupFile('cpu', '', 'cpu.max')]
    : [insideCgroupFile('cpu', 'cpu.cfs_quota_us', ''), insideCgroupFile('cpu', 'cpu.cfs_period_us', '')];
  const out = await c.spawn(['cat', ...files], { stdio: 'pipe' }).output();
  expect(out.stderr).toBe('');
  expect(out.stdout).toBe(v2 ? '150000 100000\n' : '150000\n100000\n');
});

test('cpuset pins the container to the CPUs given', async () => {
  const c = make({ resources: { cpuset: '0' } });
  const file = insideCgroupFile('cpuset', 'cpuset.cpus', 'cpuset.cpus');
  // Cpus_allowed_list: what the scheduler lets the process run on.
  const out = await c
    .spawn(['sh', '-c', `cat ${file}; grep Cpus_allowed_list /proc/self/status`], { stdio: 'pipe' })
    .output();
  expect(out.stderr).toBe('');
  expect(out.stdout).toBe('0\nCpus_allowed_list:\t0\n');
});

test('cpuWeight reaches the kernel (cpu.weight on v2, cpu.shares on v1)', async () => {
  const c = make({ resources: { cpuWeight: 10000 } });
  const p = c.spawn(['sleep', '30'], { stdio: 'pipe' });
  await p.started;
  const value = readHostCgroupFile(parent, c.id, 'cpu', 'cpu.shares', 'cpu.weight').trim();
  expect(value).toBe(onV1('cpu') ? '262144' : '10000');
});

test('cpu.usageNs grows with work and user time is reported', async () => {
  const c = make({ resources: { cpus: 1 } });
  const p = c.spawn(
    ['sh', '-c', 'echo ready; read go; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo worked; read done'],
    { stdio: 'pipe' },
  );
  await startedAndPrinted(p, 'ready');
  const before = await c.stats();
  p.stdin!.write('\n');
  await waitFor(p.stdout, 'worked', 30000);
  const after = await c.stats();
  // 300k shell iterations take well over 100 ms of CPU.
  expect(after.cpu.usageNs - before.cpu.usageNs).toBeGreaterThan(100e6);
  expect(after.cpu.userNs + after.cpu.systemNs).toBeGreaterThan(before.cpu.userNs + before.cpu.systemNs);
  p.stdin!.end('\n');
  const status = await p.wait();
  expect(status.exitCode).toBe(0);
  expect(status.usage!.cpuUserMs + status.usage!.cpuSystemMs).toBeGreaterThan(100);
  expect(status.usage!.wallMs).toBeGreaterThan(0);
});
