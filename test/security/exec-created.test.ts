/**
 * Escape through exec into a created container (issue 9, item 22): a created container's
 * first process waits at its start FIFO, still in setup. If a program could be exec'd beside
 * it with CAP_SYS_PTRACE, it would take the waiting process's fds with pidfd_getfd: a pidfd
 * of its parent (Node, or the monitor), then any fd of that parent, and walk `..` from a
 * host directory fd to the host's root (the CVE-2024-21626 pattern).
 *
 * exec() into a created container is refused (as runc does), and the waiting process holds
 * nothing but its stdio and the FIFO, seen from the host in /proc/<pid>/fd.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerStateError } from '../../lib';
import type { ContainerOptions } from '../../lib';
import { cleanup, fixturesMount, make, sharedRootfs, tempDir } from './support';

afterEach(cleanup);

function plantSecret(): { file: string; content: string } {
  const dir = tempDir('secret');
  const file = path.join(dir, 'secret');
  const content = `host-secret-${crypto.randomBytes(8).toString('hex')}`;
  fs.writeFileSync(file, `${content}\n`, { mode: 0o600 });
  return { file, content };
}

function options(detach: boolean): ContainerOptions {
  return {
    rootfs: sharedRootfs,
    readonly: true,
    detach,
    stateRoot: tempDir('state'),
    capabilities: { add: ['SYS_PTRACE'] },
    mounts: [fixturesMount('fd-thief')],
  };
}

describe('exec into a created container', () => {
  test.each([false, true])('is refused with a ContainerStateError, and the fd thief never runs (detach: %s)', async (detach) => {
    const secret = plantSecret();
    const c = make(options(detach));
    const main = await c.create(['sleep', '1000']);
    // The attack: scan every process, take every fd, walk `..` from directories, use pidfds.
    const thief = c.exec(['/fixtures/fd-thief', secret.file, '3'], { stdio: 'pipe' });
    const outcome = await thief.output().then(
      (r) => r,
      (error: Error) => error,
    );
    if (!(outcome instanceof Error)) {
      // What the old runtime let happen: show what the thief reached before failing.
      expect(outcome.stdout).not.toContain(secret.content);
    }
    expect(outcome).toBeInstanceOf(ContainerStateError);
    expect((outcome as ContainerStateError).code).toBe('ECONTAINERSTATE');
    expect((outcome as Error).message).toMatch(/created but not started/);
    // Still created, and starts as usual; exec works once it is started.
    expect(main.running).toBe(true);
    await c.start();
    const after = await c.exec(['/fixtures/fd-thief', secret.file, '2'], { stdio: 'pipe' }).output();
    expect(after.exitCode).toBe(0);
    expect(after.stdout).toContain('ROUND 2');
    expect(after.stdout).not.toContain('ESCAPED');
    expect(after.stdout).not.toContain(secret.content);
    expect(after.stdout).not.toMatch(/^PIDFD /m);
  });

  test.each([false, true])('the waiting first process holds only its stdio and the start FIFO (detach: %s)', async (detach) => {
    const c = make(options(detach));
    const main = await c.create(['sleep', '1000']);
    const pid = main.pid as number;
    const fdDir = `/proc/${pid}/fd`;
    const links = fs.readdirSync(fdDir).map((fd) => [fd, fs.readlinkSync(`${fdDir}/${fd}`)] as const);
    const above = links.filter(([fd]) => Number(fd) > 2);
    // One fd beyond stdio: the start FIFO (in the container's state directory).
    expect(above).toHaveLength(1);
    expect(above[0][1]).toMatch(/\/exec\.fifo$/);
    for (const [, target] of links) {
      expect(target).not.toMatch(/pidfd|socket:|container\.log/);
    }
    // stdio: pipes or /dev/null, never a read end of the monitor's output pipes beyond fd 2.
    for (const [fd, target] of links.filter(([n]) => Number(n) <= 2)) {
      expect(`${fd} -> ${target}`).toMatch(/-> (pipe:\[\d+\]|\/dev\/null)$/);
    }
    await c.start();
  });
});
