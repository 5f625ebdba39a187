/**
 * The control channel cannot be stolen (issue 9, item 23; the CVE-2016-9962 class). A
 * process the helper clones for exec sits in the container's PID namespace before it execs;
 * a container process with CAP_SYS_PTRACE can take its fds with pidfd_getfd. Before the fix
 * it held the control socket to Node: a thief took it and sent a forged report ("ok 1" with
 * a pidfd of its own), and Node then tracked the wrong process.
 *
 * The helper's test-pause step "exec-child" stops the cloned process at its first step,
 * where it is in the container and has not exec'd; the fd thief then scans every process of
 * the PID namespace, takes every fd and forges a report on each socket it gets. No socket it
 * takes is connected to Node (checked from the host with ss), no forged report is believed,
 * the exec'd process is the one Node tracks, and destroy() completes.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { ContainerProcess } from '../../lib';
import { waitForFile } from '../support/node-script';
import { cleanup, fixturesMount, make, results, sharedRootfs, tempDir } from './support';

afterEach(async () => {
  delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
  delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  await cleanup();
});

/** Inodes of the unix sockets this (Node) process holds and of their peers, from ss. */
function socketsToNode(): Set<string> {
  const inodes = new Set<string>();
  const text = execFileSync('ss', ['-xpn'], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    if (!line.includes(`pid=${process.pid},`)) continue;
    const tokens = line.trim().split(/\s+/);
    const users = tokens.findIndex((t) => t.startsWith('users:'));
    if (users < 4) continue;
    inodes.add(tokens[users - 3]);
    inodes.add(tokens[users - 1]);
  }
  return inodes;
}

function closed(p: ContainerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => p.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })));
}

test('a tracer in the container never gets a socket to Node from a process being exec\'d, and cannot forge its report', async () => {
  const c = make({
    rootfs: sharedRootfs,
    readonly: true,
    stateRoot: tempDir('state'),
    capabilities: { add: ['SYS_PTRACE'] },
    mounts: [fixturesMount('fd-thief')],
  });
  const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await main.started;

  // The exec'd process stops where it is first visible in the container.
  const pauseFile = path.join(tempDir('pause'), 'pause');
  process.env.TS_CONTAINER_TEST_PAUSE_AT = 'helper:exec-child';
  process.env.TS_CONTAINER_TEST_PAUSE_FILE = pauseFile;
  const victim = c.exec(['true'], { stdio: 'pipe' });
  const victimClosed = closed(victim);
  const [reached, nsPid] = await waitForFile(pauseFile);
  delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
  delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  expect(reached).toBe('helper:exec-child');

  // Every fd of every other process, three times over, while the victim waits.
  const thief = await c.exec(['/fixtures/fd-thief', '/nonexistent', '3'], { stdio: 'pipe' }).output();
  expect(thief.stdout).toContain('ROUND 3');
  const toNode = socketsToNode();
  expect(toNode.size).toBeGreaterThan(0);
  const stolen = [...thief.stdout.matchAll(/^SOCKET (\d+) (\d+) (\d+)$/gm)].map((m) => ({ pid: m[1], fd: m[2], inode: m[3] }));
  expect(stolen.filter((s) => toNode.has(s.inode))).toEqual([]);
  expect(results(thief.stdout).ESCAPED).toBeUndefined();

  // The victim goes on (or here: is killed) and Node sees that process, not the thief.
  const kill = await c.exec(['kill', '-9', nsPid], { stdio: 'pipe' }).output();
  expect(kill.exitCode).toBe(0);
  const end = await victimClosed;
  expect(end.signal).toBe('SIGKILL');
  expect(victim.pid).not.toBe(1);
  expect(victim.pid).toBeGreaterThan(1);

  // The container still works and goes away.
  const after = await c.exec(['echo', 'still here'], { stdio: 'pipe' }).output();
  expect(after.stdout).toBe('still here\n');
  await c.destroy();
  expect(main.exitCode === null && main.signalCode === null).toBe(false);
});
