/**
 * Node holds a container's mount and network namespaces while it runs, so that their
 * teardown is not part of its exit, and lets them go once the exit is seen: no namespace fd
 * stays in Node after 'close', whatever way the container ended.
 */
import * as fs from 'node:fs';
import { useContainers } from './support/containers';
import { heldNamespaceLinks, quietNamespaceLinks } from './support/namespace-fds';

const { make, run } = useContainers();

/** Releases happen on libuv's pool after the exit: give them a moment. */
async function eventually(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

test('a running container: Node holds its own mount and network namespaces, and no other', async () => {
  const before = await quietNamespaceLinks();
  const c = make();
  const p = c.spawn(['sh', '-c', 'read line'], { stdio: 'pipe' });
  await p.started;
  const mnt = fs.readlinkSync(`/proc/${p.pid}/ns/mnt`);
  const net = fs.readlinkSync(`/proc/${p.pid}/ns/net`);
  expect(mnt).not.toBe(fs.readlinkSync('/proc/self/ns/mnt'));
  expect(heldNamespaceLinks().filter((ns) => !before.includes(ns)).sort()).toEqual([mnt, net].sort());
  p.stdin?.end('\n');
  await new Promise((resolve) => p.once('close', resolve));
  expect(p.exitCode).toBe(0);
  expect(await eventually(() => !heldNamespaceLinks().includes(mnt) && !heldNamespaceLinks().includes(net))).toBe(true);
});

test('nothing stays held after containers that exit, are killed, or fail to start', async () => {
  // An earlier test's holds may still be closing: they are let go first, so that only those
  // taken from here on count.
  const before = await quietNamespaceLinks();
  for (let i = 0; i < 5; i++) {
    expect((await run({}, ['true'])).exitCode).toBe(0);
    const killed = make().spawn(['sleep', '60']);
    await killed.started;
    killed.kill('SIGKILL');
    expect((await killed.wait()).signal).toBe('SIGKILL');
    const missing = make().spawn(['/no/such/program']);
    await expect(missing.wait()).rejects.toMatchObject({ code: 'ENOENT' });
  }
  // A container on the host's network namespace: only its mount namespace was held.
  expect((await run({ network: 'host' }, ['true'])).exitCode).toBe(0);
  expect(await eventually(() => heldNamespaceLinks().every((ns) => before.includes(ns)))).toBe(true);
});

test('a loop of spawns holds a bounded batch of exited containers\' mount namespaces, and lets them go when it pauses', async () => {
  const before = await quietNamespaceLinks();
  const heldMounts = () => heldNamespaceLinks().filter((ns) => ns.startsWith('mnt:') && !before.includes(ns));
  let most = 0;
  for (let i = 0; i < 60; i++) {
    expect((await run({}, ['true'])).exitCode).toBe(0);
    most = Math.max(most, heldMounts().length);
  }
  // Let go in batches of at most 16 (lib/process/namespace-holds.ts), closed in the background:
  // never all sixty, whatever the closing thread has not finished yet.
  expect(most).toBeLessThanOrEqual(32);
  // The loop paused: every one goes.
  expect(await eventually(() => heldMounts().length === 0)).toBe(true);
});
