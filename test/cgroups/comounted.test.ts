/**
 * A v1 hierarchy mounted with several controllers, as most v1 hosts mount cpu and cpuacct:
 * the host's directory is /sys/fs/cgroup/cpu,cpuacct, and each controller's own name is a
 * symlink to it. Inside the container the same names must lead to its own cgroup there, since
 * programs read /sys/fs/cgroup/cpu/cpu.shares rather than parse mountinfo.
 *
 * This host mounts each controller alone, so the test makes such a layout in a private mount
 * namespace of its own (`unshare --mount`): a fresh tmpfs that takes every hierarchy of the
 * host's /sys/fs/cgroup by `mount --move`, the cpu one as `cpu,cpuacct`. Nothing of it reaches
 * the host's mounts; the Node process started there makes the container.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroupTestFile, onV1, rootfs } from './support';
import { writeScript, removeScripts } from '../support/node-script';
import { cgroupLinks } from '../../lib/cgroups/container-cgroup';
import { weightToShares } from '../../lib/cgroups/v1-driver';
import { testWhen } from '../support/skip';

const { parent } = cgroupTestFile('comounted');

afterAll(() => removeScripts());

test('cgroupLinks: each controller of a co-mounted directory, unless a directory has that name', () => {
  expect(cgroupLinks(['cpu,cpuacct', 'memory', 'net_cls,net_prio'])).toEqual([
    'cpu cpu,cpuacct',
    'cpuacct cpu,cpuacct',
    'net_cls net_cls,net_prio',
    'net_prio net_cls,net_prio',
  ]);
  expect(cgroupLinks(['cpu,cpuacct', 'cpuacct'])).toEqual(['cpu cpu,cpuacct']);
  expect(cgroupLinks(['cpu', 'cpuacct', 'pids'])).toEqual([]);
});

/** Moves every hierarchy of /sys/fs/cgroup onto a private tmpfs, cpu's under the name `cpu,cpuacct`. */
const COMOUNT_LAYOUT = `set -e
stage=$(mktemp -d "$TMPDIR/tsc-comount-XXXXXX")
mount -t tmpfs -o mode=755 tmpfs "$stage"
for d in /sys/fs/cgroup/*/; do
  d=\${d%/}; name=\${d##*/}
  if [ -L "$d" ]; then continue; fi
  if [ "$name" = cpu ]; then name=cpu,cpuacct; fi
  mkdir "$stage/$name"
  mount --move "$d" "$stage/$name"
done
mount --move "$stage" /sys/fs/cgroup
rmdir "$stage"
exec "$@"`;

/** A v1 hierarchy of its own at /sys/fs/cgroup/NAME (a directory, not a host's link to a co-mount). */
const ownDirectory = (name: string): boolean => {
  try {
    return fs.lstatSync(`/sys/fs/cgroup/${name}`).isDirectory();
  } catch {
    return false;
  }
};

testWhen(onV1('cpu') && ownDirectory('cpu') && ownDirectory('cpuacct'), 'needs cgroup v1 cpu and cpuacct hierarchies of their own at /sys/fs/cgroup')(
  "inside, a co-mounted hierarchy's controller names lead to the container's own cgroup there",
  async () => {
    const script = writeScript(`
      const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, cgroupParent: ${JSON.stringify(parent)}, resources: { cpuWeight: 200 } });
      try {
        const out = await c.spawn(['sh', '-c', [
          'readlink /sys/fs/cgroup/cpu',
          'cat /sys/fs/cgroup/cpu/cpu.shares',
          '[ -d /sys/fs/cgroup/cpuacct ] && [ ! -L /sys/fs/cgroup/cpuacct ] && echo cpuacct-directory',
          // Only itself (pid 1; read is a builtin): its own cgroup, not the hierarchy's root.
          'while read pid; do echo $pid; done < /sys/fs/cgroup/cpu/cgroup.procs',
          'rm /sys/fs/cgroup/cpu 2>/dev/null || echo link-kept',
          'ln -s memory /sys/fs/cgroup/extra 2>/dev/null || echo no-new-link',
        ].join('; ')], { stdio: 'pipe' }).output();
        console.log(JSON.stringify({ stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode }));
      } finally {
        await c.destroy();
      }`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-comount-'));
    try {
      const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', COMOUNT_LAYOUT, 'sh', process.execPath, '--import', 'tsx', script], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { stdout: string; stderr: string; exitCode: number };
      expect(result.stdout.trim().split('\n')).toEqual(['cpu,cpuacct', String(weightToShares(200)), 'cpuacct-directory', '1', 'link-kept', 'no-new-link']);
      // The host's layout is as it was.
      expect(fs.existsSync('/sys/fs/cgroup/cpu,cpuacct')).toBe(false);
      expect(fs.readdirSync('/sys/fs/cgroup')).toContain('cpu');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
  60_000,
);
