/**
 * The tmpfs mounts the runtime makes on its own have a size (issue 9, item 7): without one,
 * each is half of RAM, and one container filling /tmp, /run and /dev/shm could take all of
 * the host's memory. Defaults: /tmp and /var/tmp 1 GiB, /run, /var/run and /dev/shm 64 MiB;
 * `tmpfsSizes` overrides them, and a mount of the caller's own at one of those paths
 * replaces the runtime's (it is not stacked on it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import { DEFAULT_TMPFS_SIZES } from '../lib/options/defaults';
import { parseCommandLine } from '../lib/cli/program';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const { sh, tempDirs } = useContainers();
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * For each path: its size in bytes as statfs reports it (df's total) when the path is a mount
 * point of its own in the container, or null when it is not. Works with the host's df and busybox's.
 */
async function tmpfsSizes(options: ConstructorParameters<typeof Container>[0], paths: string[]): Promise<Record<string, number | null>> {
  const script = paths
    .map((p) => `if grep -q "^[^ ]* [^ ]* [^ ]* [^ ]* ${p} " /proc/self/mountinfo; then echo "${p} $(df -P -k ${p} | tail -n 1 | awk '{print $2}')"; else echo "${p} -"; fi`)
    .join('; ');
  const out = await sh(options ?? {}, script);
  expect(out.stderr).toBe('');
  const sizes: Record<string, number | null> = {};
  for (const line of out.stdout.trim().split('\n')) {
    const [p, kib] = line.split(' ');
    sizes[p] = kib === '-' ? null : Number(kib) * KiB;
  }
  return sizes;
}

/** How many mounts have `target` as their mount point (stacked mounts count each). */
async function mountsAt(options: ConstructorParameters<typeof Container>[0], target: string): Promise<number> {
  const out = await sh(options ?? {}, `awk '$5 == "${target}"' /proc/self/mountinfo | wc -l`);
  return Number(out.stdout.trim());
}

test('the host-root container: /tmp 1 GiB, /run and /dev/shm 64 MiB (and /var/tmp, /var/run where fresh)', async () => {
  const sizes = await tmpfsSizes({}, ['/tmp', '/run', '/dev/shm', '/var/tmp', '/var/run']);
  expect(sizes['/tmp']).toBe(GiB);
  expect(sizes['/run']).toBe(64 * MiB);
  expect(sizes['/dev/shm']).toBe(64 * MiB);
  // Fresh ones where the runtime mounts them (/var/run may be a link to /run).
  if (sizes['/var/tmp'] !== null) expect(sizes['/var/tmp']).toBe(GiB);
  if (sizes['/var/run'] !== null) expect(sizes['/var/run']).toBe(64 * MiB);
  expect(DEFAULT_TMPFS_SIZES).toEqual({ '/tmp': GiB, '/var/tmp': GiB, '/run': 64 * MiB, '/var/run': 64 * MiB, '/dev/shm': 64 * MiB });
});

test('a read-only rootfs directory: /tmp 1 GiB, /dev/shm 64 MiB', async () => {
  const sizes = await tmpfsSizes({ rootfs, readonly: true }, ['/tmp', '/dev/shm']);
  expect(sizes).toEqual({ '/tmp': GiB, '/dev/shm': 64 * MiB });
});

test('writing past the size fails inside the container (ENOSPC), not on the host', async () => {
  const out = await sh(
    { tmpfsSizes: { '/dev/shm': '1m' } },
    'dd if=/dev/zero of=/dev/shm/fill bs=64k count=64 2>&1 | grep -o "No space left on device" | head -n 1',
  );
  expect(out.stdout).toBe('No space left on device\n');
});

test('tmpfsSizes overrides each default; -1 gives the kernel default (half of RAM)', async () => {
  const sizes = await tmpfsSizes({ tmpfsSizes: { '/tmp': '2g', '/run': '8m', '/dev/shm': -1 } }, ['/tmp', '/run', '/dev/shm']);
  expect(sizes['/tmp']).toBe(2 * GiB);
  expect(sizes['/run']).toBe(8 * MiB);
  // The kernel's default: half of the machine's memory, rounded to pages.
  expect(Math.abs((sizes['/dev/shm'] as number) - os.totalmem() / 2)).toBeLessThan(64 * MiB);
});

test("a mount of the caller's own at /tmp, /run or /dev/shm replaces the runtime's", async () => {
  const mounts = [
    { type: 'tmpfs' as const, target: '/tmp', size: '16m' },
    { type: 'tmpfs' as const, target: '/dev/shm', size: '4m' },
    { type: 'tmpfs' as const, target: '/run', size: '2m' },
  ];
  expect(await tmpfsSizes({ mounts }, ['/tmp', '/dev/shm', '/run'])).toEqual({ '/tmp': 16 * MiB, '/dev/shm': 4 * MiB, '/run': 2 * MiB });
  for (const target of ['/tmp', '/dev/shm', '/run']) expect(await mountsAt({ mounts }, target)).toBe(1);
  // A bind mount too: the directory the caller gave is /tmp, with nothing under or over it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-tmpfs-sizes-'));
  tempDirs.push(dir);
  fs.writeFileSync(path.join(dir, 'mine'), 'yes');
  const bind = { mounts: [{ type: 'bind' as const, source: dir, target: '/tmp' }] };
  expect(await mountsAt(bind, '/tmp')).toBe(1);
  expect((await sh(bind, 'cat /tmp/mine')).stdout).toBe('yes');
});

test("CLI: --shm-size sets /dev/shm's size, as docker's", () => {
  expect(parseCommandLine(['run', '--shm-size', '256m', 'true'])).toMatchObject({ options: { tmpfsSizes: { '/dev/shm': '256m' } } });
  expect(() => parseCommandLine(['run', '--shm-size', 'big', 'true'])).toThrow(/--shm-size/);
});

test('bad tmpfsSizes are TypeErrors that name the option', () => {
  expect(() => new Container({ tmpfsSizes: { '/etc': '1m' } as never })).toThrow(/tmpfsSizes\.\/etc: not a tmpfs the runtime mounts/);
  expect(() => new Container({ tmpfsSizes: { '/tmp': 0 } })).toThrow(TypeError);
  expect(() => new Container({ tmpfsSizes: { '/tmp': 'lots' } })).toThrow(/tmpfsSizes\.\/tmp: expected bytes/);
  expect(() => new Container({ tmpfsSizes: [] as never })).toThrow(TypeError);
});
