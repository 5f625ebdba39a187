/**
 * The rootfs (read-only or writable), bind mounts (ro, rw, recursive, single files),
 * tmpfs mounts (size, mode, read-only), and mount targets that try to escape the rootfs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ContainerSetupError } from '../lib';
import type { ContainerOptions, ProcessOptions, ProcessOutput } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers, ok } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const { make, run, sh, tempDirs } = useContainers();

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/** A private, writable copy of the busybox rootfs. */
function rootfsCopy(): string {
  const d = path.join(tempDir('mnt-rootfs-'), 'root');
  execFileSync('cp', ['-a', rootfs, d]);
  return d;
}

function superOptionsAt(mountinfo: string, mountPoint: string): string[] {
  const line = mountinfo
    .split('\n')
    .filter((l) => l.split(' ')[4] === mountPoint)
    .pop();
  if (!line) return [];
  return line.split(' - ')[1].split(' ')[2].split(',');
}

function mountOptionsAt(mountinfo: string, mountPoint: string): string[] {
  const line = mountinfo
    .split('\n')
    .filter((l) => l.split(' ')[4] === mountPoint)
    .pop();
  return line ? line.split(' ')[5].split(',') : [];
}

describe('rootfs', () => {
  test('readonly: true makes writes anywhere in the rootfs fail with EROFS', async () => {
    for (const file of ['/etc/ts-test', '/root/ts-test', '/ts-test']) {
      const r = await run({ rootfs, readonly: true }, ['touch', file]);
      expect(r).toMatchObject({ exitCode: 1, signal: null, stdout: '', stderr: `touch: ${file}: Read-only file system\n` });
      expect(fs.existsSync(path.join(rootfs, file))).toBe(false);
    }
  });

  test('readonly defaults to false for a rootfs directory: writes land in its private layer, not the directory', async () => {
    const root = rootfsCopy();
    const r = await sh({ rootfs: root }, 'echo written > /root/out && cat /root/out');
    expect(r).toMatchObject(ok('written\n'));
    expect(fs.existsSync(path.join(root, 'root', 'out'))).toBe(false);
  });

  test('rootfsOverlay: false writes straight into the rootfs directory', async () => {
    const root = rootfsCopy();
    const r = await sh({ rootfs: root, rootfsOverlay: false }, 'echo written > /root/out && cat /root/out');
    expect(r).toMatchObject(ok('written\n'));
    expect(fs.readFileSync(path.join(root, 'root', 'out'), 'utf8')).toBe('written\n');
  });

  test('the read-only rootfs stays read-only for root with the default capabilities (no remount)', async () => {
    const r = await sh({ rootfs, readonly: true }, 'mount -o remount,rw / 2>&1; touch /ts-test');
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/Read-only file system/);
  });
});

describe('bind mounts', () => {
  test('a read-only bind shows the host files and refuses writes with EROFS', async () => {
    const src = tempDir('mnt-bind-ro-');
    fs.writeFileSync(path.join(src, 'data'), 'from the host\n');
    const opts: ContainerOptions = { rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/work', readonly: true }] };
    expect(await run(opts, ['cat', '/work/data'])).toMatchObject(ok('from the host\n'));
    const w = await run(opts, ['touch', '/work/new']);
    expect(w).toMatchObject({ exitCode: 1, signal: null, stdout: '', stderr: 'touch: /work/new: Read-only file system\n' });
    const w2 = await sh(opts, 'echo x >> /work/data');
    expect(w2.exitCode).not.toBe(0);
    expect(w2.stderr).toMatch(/Read-only file system/);
    expect(fs.readdirSync(src)).toEqual(['data']);
    expect(fs.readFileSync(path.join(src, 'data'), 'utf8')).toBe('from the host\n');
    // The host's own view of the directory stays writable.
    fs.writeFileSync(path.join(src, 'host-write'), 'ok');
  });

  test('a read-write bind lets the container write to the host directory', async () => {
    const src = tempDir('mnt-bind-rw-');
    const opts: ContainerOptions = { rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/work' }] };
    const r = await sh(opts, 'echo out > /work/out && mkdir /work/d && cat /work/out');
    expect(r).toMatchObject(ok('out\n'));
    expect(fs.readFileSync(path.join(src, 'out'), 'utf8')).toBe('out\n');
    expect(fs.statSync(path.join(src, 'd')).isDirectory()).toBe(true);
  });

  test('a bind of a single file', async () => {
    const src = tempDir('mnt-bind-file-');
    const file = path.join(src, 'group');
    fs.writeFileSync(file, 'staff:x:50:\n');
    const r = await run(
      { rootfs, readonly: true, mounts: [{ type: 'bind', source: file, target: '/etc/group', readonly: true }] },
      ['cat', '/etc/group'],
    );
    expect(r).toMatchObject(ok('staff:x:50:\n'));
  });

  test('a user bind over /etc/hosts wins over any generated one', async () => {
    const src = tempDir('mnt-bind-hosts-');
    const file = path.join(src, 'hosts');
    fs.writeFileSync(file, '10.0.0.1 example\n');
    const r = await run(
      { rootfs, readonly: true, mounts: [{ type: 'bind', source: file, target: '/etc/hosts', readonly: true }] },
      ['cat', '/etc/hosts'],
    );
    expect(r).toMatchObject(ok('10.0.0.1 example\n'));
  });

  test('binds are listed with the right flags in the container mountinfo', async () => {
    const a = tempDir('mnt-bind-a-');
    const b = tempDir('mnt-bind-b-');
    const r = await run(
      {
        rootfs,
        readonly: true,
        mounts: [
          { type: 'bind', source: a, target: '/work', readonly: true },
          { type: 'bind', source: b, target: '/mnt' },
        ],
      },
      ['cat', '/proc/self/mountinfo'],
    );
    expect(r.exitCode).toBe(0);
    expect(mountOptionsAt(r.stdout, '/work')).toContain('ro');
    expect(mountOptionsAt(r.stdout, '/mnt')).toContain('rw');
    expect(mountOptionsAt(r.stdout, '/')).toContain('ro');
  });

  test('recursive binds bring submounts along (read-only too), non-recursive ones do not', async () => {
    const src = tempDir('mnt-bind-rec-');
    const sub = path.join(src, 'sub');
    fs.mkdirSync(sub);
    // Keep the host submount short-lived: other jest workers watch the host mount table.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ts-test-submount', sub]);
    try {
      fs.writeFileSync(path.join(sub, 'subfile'), 'in the submount\n');
      const rec = await run({ rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/work' }] }, [
        'cat',
        '/work/sub/subfile',
      ]);
      expect(rec).toMatchObject(ok('in the submount\n'));

      const rec2 = await run(
        { rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/work', recursive: true }] },
        ['cat', '/work/sub/subfile'],
      );
      expect(rec2).toMatchObject(ok('in the submount\n'));

      const flat = await run(
        { rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/work', recursive: false }] },
        ['ls', '-A', '/work/sub'],
      );
      expect(flat).toMatchObject(ok(''));

      const ro = await run(
        { rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/work', readonly: true }] },
        ['touch', '/work/sub/new'],
      );
      expect(ro).toMatchObject({ exitCode: 1, signal: null, stdout: '', stderr: 'touch: /work/sub/new: Read-only file system\n' });
      expect(fs.readdirSync(sub)).toEqual(['subfile']);
    } finally {
      execFileSync('umount', [sub]);
    }
  });

  test('a bind over a read-only rootfs stays writable when not read-only', async () => {
    const src = tempDir('mnt-bind-over-ro-');
    const r = await sh(
      { rootfs, readonly: true, mounts: [{ type: 'bind', source: src, target: '/home' }] },
      'touch /home/ok && touch /etc/no',
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('touch: /etc/no: Read-only file system\n');
    expect(fs.readdirSync(src)).toEqual(['ok']);
  });
});

describe('tmpfs mounts', () => {
  test('size "64m" sets a 64 MiB tmpfs', async () => {
    const r = await sh(
      { rootfs, readonly: true, mounts: [{ type: 'tmpfs', target: '/mnt', size: '64m' }] },
      'cat /proc/self/mountinfo; echo ---; df -k /mnt | tail -n 1',
    );
    expect(r.exitCode).toBe(0);
    const [mountinfo, df] = r.stdout.split('---\n');
    expect(mountinfo.split('\n').filter((l) => l.split(' ')[4] === '/mnt').pop()).toMatch(/ - tmpfs /);
    expect(superOptionsAt(mountinfo, '/mnt')).toContain('size=65536k');
    expect(df.trim().split(/\s+/)[1]).toBe('65536');
  });

  test('a numeric size is bytes', async () => {
    const r = await run(
      { rootfs, readonly: true, mounts: [{ type: 'tmpfs', target: '/mnt', size: 1024 * 1024 }] },
      ['cat', '/proc/self/mountinfo'],
    );
    expect(superOptionsAt(r.stdout, '/mnt')).toContain('size=1024k');
  });

  test('the size is enforced', async () => {
    const r = await sh(
      { rootfs, readonly: true, mounts: [{ type: 'tmpfs', target: '/mnt', size: '1m' }] },
      'head -c 2000000 /dev/zero > /mnt/big; echo "rc=$?"; wc -c < /mnt/big',
    );
    const [rc, size] = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(rc).not.toBe('rc=0');
    expect(Number(size)).toBeGreaterThan(0);
    expect(Number(size)).toBeLessThanOrEqual(1024 * 1024);
  });

  test.each([
    [0o700, '700'],
    ['1777', '1777'],
    [0o755, '755'],
  ])('mode %p gives the tmpfs root mode %s', async (mode, expected) => {
    const r = await sh(
      { rootfs, readonly: true, mounts: [{ type: 'tmpfs', target: '/mnt', mode }] },
      'stat -c %a /mnt; grep " /mnt " /proc/self/mountinfo',
    );
    expect(r.exitCode).toBe(0);
    const [statLine, info] = r.stdout.split('\n');
    expect(statLine).toBe(expected);
    // The kernel shows mode= unless it is tmpfs's default, 1777.
    const shown = info.split(' - ')[1].split(' ')[2].split(',').filter((o) => o.startsWith('mode='));
    expect(shown).toEqual(expected === '1777' ? [] : [`mode=${expected}`]);
  });

  test('a tmpfs is writable and private to the container', async () => {
    const opts: ContainerOptions = { rootfs, readonly: true, mounts: [{ type: 'tmpfs', target: '/work' }] };
    expect(await sh(opts, 'echo data > /work/f && cat /work/f')).toMatchObject(ok('data\n'));
    // A new container gets an empty tmpfs.
    expect(await run(opts, ['ls', '-A', '/work'])).toMatchObject(ok(''));
    expect(fs.readdirSync(path.join(rootfs, 'work'))).toEqual([]);
  });

  test('a read-only tmpfs refuses writes with EROFS', async () => {
    const r = await run(
      { rootfs, readonly: true, mounts: [{ type: 'tmpfs', target: '/mnt', readonly: true }] },
      ['touch', '/mnt/f'],
    );
    expect(r).toMatchObject({ exitCode: 1, signal: null, stdout: '', stderr: 'touch: /mnt/f: Read-only file system\n' });
  });

  test('mounts apply in order: a tmpfs inside a bind', async () => {
    const src = tempDir('mnt-order-');
    fs.mkdirSync(path.join(src, 'inner'));
    const r = await sh(
      {
        rootfs,
        readonly: true,
        mounts: [
          { type: 'bind', source: src, target: '/work', readonly: true },
          { type: 'tmpfs', target: '/work/inner' },
        ],
      },
      'echo x > /work/inner/f && cat /work/inner/f',
    );
    expect(r).toMatchObject(ok('x\n'));
    expect(fs.readdirSync(path.join(src, 'inner'))).toEqual([]);
  });
});

describe('mount targets never leave the rootfs', () => {
  test('a missing target on a read-only rootfs is created as an empty directory, and nothing else is written', async () => {
    // As runc does: the mount point is made in the rootfs directory before the root turns read-only.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-mounts-ro-'));
    try {
      execFileSync('cp', ['-a', `${rootfs}/.`, copy]);
      const before = fs.readdirSync(copy).sort();
      const result = await run({ rootfs: copy, readonly: true, mounts: [{ type: 'tmpfs', target: '/made-here' }] }, [
        'sh',
        '-c',
        'echo s > /made-here/f && cat /made-here/f; touch /other || true',
      ]);
      expect(result.stdout).toBe('s\n');
      expect(result.stderr).toMatch(/Read-only file system/);
      expect(fs.readdirSync(copy).sort()).toEqual([...before, 'made-here'].sort());
      expect(fs.readdirSync(path.join(copy, 'made-here'))).toEqual([]);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  test.each([
    ['an absolute symlink', (hostDir: string) => hostDir, '/escape'],
    ['an absolute symlink, deeper target', (hostDir: string) => hostDir, '/escape/a/b'],
    ['a relative symlink with ..', (hostDir: string) => '../../../../../../../../..' + hostDir, '/escape/sub'],
  ])('%s pointing at a host directory is resolved inside the rootfs', async (_name, link, target) => {
    const root = rootfsCopy();
    const hostDir = tempDir('mnt-escape-target-');
    fs.symlinkSync(link(hostDir), path.join(root, 'escape'));
    let result: ProcessOutput | undefined;
    let error: any;
    try {
      result = await sh({ rootfs: root, mounts: [{ type: 'tmpfs', target }] }, `touch ${target}/pwned && echo done`);
    } catch (err) {
      error = err;
    }
    if (error) expect(error).toBeInstanceOf(ContainerSetupError);
    else expect(result).toMatchObject(ok('done\n'));
    // Nothing was created on the host side of the link.
    expect(fs.readdirSync(hostDir)).toEqual([]);
  });

  test.each(['none', 'host'] as const)(
    'generated /etc files never follow a rootfs symlink to the host (network %s)',
    async (network) => {
      const root = rootfsCopy();
      const hostDir = tempDir('mnt-escape-etc-');
      for (const name of ['hostname', 'hosts', 'resolv.conf']) {
        const hostFile = path.join(hostDir, name);
        fs.writeFileSync(hostFile, `host ${name}\n`);
        fs.rmSync(path.join(root, 'etc', name), { force: true });
        fs.symlinkSync(hostFile, path.join(root, 'etc', name));
      }
      let result: ProcessOutput | undefined;
      let error: any;
      try {
        result = await run({ rootfs: root, hostname: 'symbox', network }, ['sh', '-c', 'hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf 2>/dev/null; true']);
      } catch (err) {
        error = err;
      }
      if (error) expect(error).toBeInstanceOf(ContainerSetupError);
      else {
        expect(result?.exitCode).toBe(0);
        expect(result?.stdout.startsWith('symbox\n')).toBe(true);
        // Whatever the container shows, it is not the content of the host files.
        expect(result?.stdout).not.toMatch(/^host /m);
      }
      expect(fs.readdirSync(hostDir).sort()).toEqual(['hostname', 'hosts', 'resolv.conf']);
      for (const name of ['hostname', 'hosts', 'resolv.conf']) {
        expect(fs.readFileSync(path.join(hostDir, name), 'utf8')).toBe(`host ${name}\n`);
      }
    },
  );

  test('a bind source is taken from the host, a symlinked target from the rootfs', async () => {
    const root = rootfsCopy();
    const hostDir = tempDir('mnt-escape-bind-');
    const src = tempDir('mnt-escape-src-');
    fs.writeFileSync(path.join(src, 'f'), 'src\n');
    fs.symlinkSync(hostDir, path.join(root, 'escape'));
    let error: any;
    try {
      await run({ rootfs: root, mounts: [{ type: 'bind', source: src, target: '/escape' }] }, ['true']);
    } catch (err) {
      error = err;
    }
    if (error) expect(error).toBeInstanceOf(ContainerSetupError);
    expect(fs.readdirSync(hostDir)).toEqual([]);
    // If the mount went ahead, it landed inside the copy of the rootfs.
    if (!error) expect(fs.existsSync(path.join(root, hostDir))).toBe(true);
  });
});
