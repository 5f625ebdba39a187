/**
 * pids: a fork bomb under `pids: 64` is stopped at the limit and never reaches the host;
 * the limit is visible from inside; destroying the container removes every process and cgroup.
 */
import * as fs from 'node:fs';
import {
  cgroupTestFile,
  collect,
  eventually,
  forksRefused,
  hostCgroupDir,
  insideCgroupFile,
  SLOW_DEADLINE_MS,
  listingWith,
  pidAlive,
  pidsPeak,
  procsOf,
  SLOW_TEST_TIMEOUT_MS,
  waitCgroupsBelow,
  emptyListing,
} from './support';
import { ContainerSetupError } from '../../lib';

const { parent, make } = cgroupTestFile('pids');

test('a fork bomb under pids: 64 stops at the limit, the host is unaffected, destroy leaves nothing', async () => {
  const c = make({ resources: { pids: 64 } });
  // The main shell forks once, before the bomb grows, then becomes sleep: run in the main shell,
  // the bomb's second fork of its pipeline could meet the limit and end the shell (ash exits
  // when it cannot fork), and with it the container.
  const p = c.spawn(['sh', '-c', 'bomb() { bomb | bomb & }; bomb & exec sleep 1000'], { stdio: 'pipe' });
  const stderr = collect(p.stderr);
  await p.started;

  // While it runs, the container has a cgroup in every hierarchy, below the parent.
  expect(await waitCgroupsBelow(parent, listingWith(c.id))).toEqual(listingWith(c.id));

  const pidsDir = hostCgroupDir(parent, c.id, 'pids');
  let maxCurrent = 0;
  // The bomb's reach on the host: every process in its PID namespace, in any cgroup (counting
  // all host processes would count whatever else the machine runs meanwhile).
  const bombNamespace = fs.readlinkSync(`/proc/${p.pid}/ns/pid`);
  let maxInNamespace = 0;
  const seenPids = new Set<number>();
  // Until the kernel has refused forks at the limit ("max N" in pids.events), however long the
  // bomb takes to get there, watching it on the way.
  const atLimit = async (): Promise<boolean> => {
    const s = await c.stats();
    expect(s.pids.limit).toBe(64);
    maxCurrent = Math.max(maxCurrent, s.pids.current);
    maxInNamespace = Math.max(maxInNamespace, processesInNamespace(bombNamespace));
    for (const pid of procsOf(pidsDir)) seenPids.add(pid);
    return forksRefused(pidsDir) > 0;
  };
  expect(await eventually(atLimit, SLOW_DEADLINE_MS, 50)).toBe(true);
  // The kernel's high-water mark where it keeps one (pids.peak, Linux 6.13), else what was seen.
  const peak = pidsPeak(pidsDir) ?? maxCurrent;
  // It did try hard, and was held at the limit.
  expect(peak).toBeGreaterThanOrEqual(60);
  expect(peak).toBeLessThanOrEqual(64);
  expect(maxCurrent).toBeLessThanOrEqual(64);
  expect(await eventually(() => /can't fork/.test(stderr.text()), SLOW_DEADLINE_MS)).toBe(true);
  // An unchecked bomb reaches thousands of processes; this one stays at 64.
  expect(maxInNamespace).toBeLessThanOrEqual(64);
  expect(p.running).toBe(true);

  await c.destroy();
  const status = await p.wait();
  expect(status.signal).toBe('SIGKILL');
  expect(await waitCgroupsBelow(parent, emptyListing())).toEqual(emptyListing());
  // Every process the bomb made is gone (a recycled pid would not be in our cgroup anymore).
  expect(await eventually(() => [...seenPids].every((pid) => !pidAlive(pid) || !inContainer(pid, c.id)), SLOW_DEADLINE_MS)).toBe(true);
  expect(await eventually(() => processesInNamespace(bombNamespace) === 0, SLOW_DEADLINE_MS)).toBe(true);
}, SLOW_TEST_TIMEOUT_MS);

/** How many host processes are in the PID namespace `namespace` (a /proc/PID/ns/pid link). */
function processesInNamespace(namespace: string): number {
  let count = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) === namespace) count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

/** True while `pid` is in the container's cgroup (a recycled pid is not). */
function inContainer(pid: number, id: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${id}`);
  } catch {
    return false;
  }
}

test('the pids limit is what the container sees in its own cgroup, and it counts every process', async () => {
  const c = make({ resources: { pids: 10 } });
  const file = insideCgroupFile('pids', 'pids.max', 'pids.max');
  const current = insideCgroupFile('pids', 'pids.current', 'pids.current');
  const p = c.spawn(['sh', '-c', `cat ${file}; sleep 30 & sleep 30 & sleep 30 & read n < ${current}; echo $n`], { stdio: 'pipe' });
  const out = await p.output();
  expect(out.stderr).toBe('');
  // sh and its 3 sleepers (`read` is a builtin: no process of its own).
  expect(out.stdout).toBe('10\n4\n');
  expect(out.exitCode).toBe(0);
});

test('forks past the limit fail with EAGAIN while the processes within it keep running', async () => {
  const c = make({ resources: { pids: 4 } });
  // The main sh (1) runs a child sh (2) that starts sleepers (3, 4) until a fork fails;
  // ash gives up its script on a failed fork, so the failing shell is the child.
  const p = c.spawn(
    ['sh', '-c', 'sh -c "for i in 1 2 3 4 5 6; do sleep 1000 & done"; echo "child: $?"; exec sleep 1000'],
    { stdio: 'pipe' },
  );
  const stderr = collect(p.stderr);
  const stdout = collect(p.stdout);
  await p.started;
  expect(await eventually(() => stdout.text().includes('child: '), SLOW_DEADLINE_MS)).toBe(true);
  expect(stderr.text()).toMatch(/can't fork/);
  expect(stdout.text()).not.toBe('child: 0\n');
  // Main and the two sleepers that fitted are still there.
  expect(await eventually(async () => (await c.stats()).pids.current === 3, SLOW_DEADLINE_MS)).toBe(true);
  expect(p.running).toBe(true);
}, SLOW_TEST_TIMEOUT_MS);

test('an exec into a container at its pids limit fails with EAGAIN, leaves no process, and the container goes on', async () => {
  const c = make({ resources: { pids: 1 } });
  const p = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await p.started;
  // The exec'd process moves itself into the container's v1 cgroups (a move is not checked
  // against pids.max) and finds itself over the limit before it runs anything.
  const exec = c.exec(['touch', '/ran'], { stdio: 'ignore' });
  const error = await exec.wait().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ContainerSetupError);
  expect(error).toMatchObject({ code: 'EAGAIN' });
  expect(String((error as Error).message)).toMatch(/pids limit/);
  expect((await c.stats()).pids.current).toBe(1);
  expect(p.running).toBe(true);
  // It never ran: with room for one more process, nothing it would have made is there.
  await c.update({ pids: 2 });
  const check = await c.exec(['ls', '/ran'], { stdio: 'pipe' }).output();
  expect(check.exitCode).not.toBe(0);
  expect(check.stderr).toMatch(/No such file/);
});
