/**
 * A container's network namespace is made beside its first process while it builds its root,
 * or ahead by the setup server (native/helper/network_namespace_maker.h), not by its clone. What the container sees must
 * be what a clone would have given it: a new namespace of its own, owned by its own user
 * namespace, with only lo, up; sysfs showing that namespace; and its sysctls owned by its root.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';

const { make } = useContainers();

/**
 * Inode of the namespace that owns the network namespace of `pid` (lsns's ONS column).
 * lsns reads every process in /proc. While other containers come and go (the other test
 * worker's) it now and then exits 1 without a message: about 1 run in 600 beside a loop of
 * containers. Its answer for `pid` does not depend on the others, so it is asked again.
 */
function networkNamespaceOwner(pid: number): string {
  for (let attempt = 1; ; attempt++) {
    try {
      const out = execFileSync('lsns', ['-t', 'net', '-n', '-o', 'NS,ONS', '-p', String(pid)], { encoding: 'utf8' }).trim();
      return out.split(/\s+/)[1];
    } catch (error) {
      if (attempt === 5) throw error;
    }
  }
}

function inode(link: string): string {
  return (/\[(\d+)\]/.exec(link) as RegExpExecArray)[1];
}

/** Starts a container that reports what it sees of its network, then waits for a line. */
async function look(options: Record<string, unknown>) {
  const c = make(options);
  const p = c.spawn(['sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/flags; stat -c "%u %g" /proc/sys/net/ipv4/ping_group_range; echo seen; read line'], { stdio: 'pipe' });
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await p.started;
  for (let i = 0; i < 500 && !out.includes('seen'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const seen = {
    net: fs.readlinkSync(`/proc/${p.pid}/ns/net`),
    user: fs.readlinkSync(`/proc/${p.pid}/ns/user`),
    owner: networkNamespaceOwner(p.pid as number),
    lines: out.trim().split('\n'),
  };
  p.stdin?.end('\n');
  await new Promise((resolve) => p.once('close', resolve));
  expect(err).toBe('');
  expect(p.exitCode).toBe(0);
  return seen;
}

const rootfs = ensureBusyboxRootfs();

// The first container of a setup server makes its namespace beside it; the next ones take the
// one the server made ahead after answering the one before: both are checked here.
test('without a user namespace: a new network namespace of the host user namespace, only lo, up', async () => {
  const namespaces = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const seen = await look({ rootfs });
    expect(seen.net).not.toBe(fs.readlinkSync('/proc/self/ns/net'));
    expect(seen.owner).toBe(inode(fs.readlinkSync('/proc/self/ns/user')));
    const [devices, flags, owner] = seen.lines;
    expect(devices).toBe('lo');
    expect(Number(flags) & 1).toBe(1); // IFF_UP
    expect(owner).toBe('0 0');
    namespaces.add(seen.net);
  }
  expect(namespaces.size).toBe(3);
});

test("in a user namespace: the network namespace is owned by the container's own, its sysctls by its root", async () => {
  // The host-root default runs in a block of ids.
  const seen = await look({});
  expect(seen.user).not.toBe(fs.readlinkSync('/proc/self/ns/user'));
  expect(seen.owner).toBe(inode(seen.user));
  const [devices, flags, owner] = seen.lines;
  expect(devices).toBe('lo');
  expect(Number(flags) & 1).toBe(1);
  // Made once the id maps were written: the namespace's root (container uid 0) owns its sysctls.
  expect(owner).toBe('0 0');
});

test('two containers at once: two network namespaces', async () => {
  const a = make().spawn(['sleep', '30']);
  const b = make().spawn(['sleep', '30']);
  await Promise.all([a.started, b.started]);
  expect(fs.readlinkSync(`/proc/${a.pid}/ns/net`)).not.toBe(fs.readlinkSync(`/proc/${b.pid}/ns/net`));
  a.kill('SIGKILL');
  b.kill('SIGKILL');
  await Promise.all([a.wait(), b.wait()]);
});
