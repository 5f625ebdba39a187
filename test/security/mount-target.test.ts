/**
 * Escape class: a symlink swapped into a mount target during setup
 * (CVE-2021-30465), and a mount target that is a symlink pointing out of the
 * rootfs.
 *
 * A rootfs copy gets symlinks at (or above) the targets of bind and tmpfs
 * mounts: absolute ones naming host directories, relative ../../ ones, one to
 * /etc. Setup either refuses or puts the mount inside the rootfs; the host
 * directories stay empty and the host's mountinfo never shows the mount. Then a
 * host-side racer exchanges a rootfs directory with such a symlink in a tight
 * loop while containers start with mounts below it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerSetupError } from '../../lib';
import type { Mount, ProcessOutput } from '../../lib';
import { cleanup, fixture, hostMountsUnder, make, parseMountinfo, rootfsCopy, sleep, tempDir } from './support';

afterEach(cleanup);

/** A host directory that a mount must never land on, and a bind source with a file in it. */
function hostDirs(): { hostDir: string; source: string } {
  const hostDir = tempDir('host-target');
  const source = tempDir('bind-source');
  fs.writeFileSync(path.join(source, 'from-source'), 'source\n');
  return { hostDir, source };
}

function expectHostUntouched(hostDir: string): void {
  expect(fs.readdirSync(hostDir)).toEqual([]);
  expect(hostMountsUnder(hostDir)).toEqual([]);
}

/**
 * Starts a container with `mounts` that lists its own mountinfo; returns its
 * mount points, or 'refused' when setup failed with a ContainerSetupError
 * naming the mount. While it runs, the host's mountinfo is checked.
 */
async function startWith(rootfs: string, mounts: Mount[], hostDir: string, script = 'cat /proc/self/mountinfo'): Promise<{ mountPoints: string[]; out: ProcessOutput } | 'refused'> {
  const c = make({ rootfs, mounts });
  const p = c.spawn(['sh', '-c', `${script}; sleep 0.1`], { stdio: 'pipe' });
  const out = p.output();
  try {
    await p.started;
  } catch (err) {
    expect(err).toBeInstanceOf(ContainerSetupError);
    expect((err as ContainerSetupError).step).toMatch(/^mount /);
    await out.catch(() => undefined);
    return 'refused';
  }
  // The container is up: the host sees nothing new at the host dir.
  expect(hostMountsUnder(hostDir)).toEqual([]);
  const r = await out;
  expect(r.exitCode).toBe(0);
  return { mountPoints: parseMountinfo(r.stdout).map((m) => m.mountPoint), out: r };
}

describe('a mount target that is a symlink pointing out of the rootfs', () => {
  test('absolute symlink to a host dir: the bind lands inside the rootfs or is refused, the host dir stays empty', async () => {
    const { hostDir, source } = hostDirs();
    const rootfs = rootfsCopy();
    fs.symlinkSync(hostDir, path.join(rootfs, 'work-link'));
    const r = await startWith(rootfs, [{ type: 'bind', source, target: '/work-link' }], hostDir);
    // With the link's target missing inside the rootfs, resolving it there finds nothing.
    if (r !== 'refused') expect(r.mountPoints).not.toContain(hostDir);
    expectHostUntouched(hostDir);

    // The same path made inside the rootfs: the mount goes there, inside.
    fs.mkdirSync(path.join(rootfs, hostDir), { recursive: true });
    const r2 = await startWith(rootfs, [{ type: 'bind', source, target: '/work-link' }], hostDir, `cat /proc/self/mountinfo; cat /work-link/from-source ${hostDir}/from-source`);
    expect(r2).not.toBe('refused');
    if (r2 !== 'refused') {
      expect(r2.mountPoints).toContain(hostDir); // the in-root path of the same name
      expect(r2.out.stdout).toContain('source\nsource\n');
    }
    expectHostUntouched(hostDir);
    expect(fs.readdirSync(path.join(rootfs, hostDir))).toEqual([]); // the mount was on top of it, now gone
  });

  test('relative ../../ symlink to a host dir (bind and tmpfs): clamped at the rootfs', async () => {
    const { hostDir, source } = hostDirs();
    const rootfs = rootfsCopy();
    const up = '../'.repeat(20);
    fs.symlinkSync(`${up}${hostDir.slice(1)}`, path.join(rootfs, 'rel-bind'));
    fs.symlinkSync(`${up}${hostDir.slice(1)}`, path.join(rootfs, 'rel-tmpfs'));
    fs.mkdirSync(path.join(rootfs, 'deep', 'er'), { recursive: true });
    fs.symlinkSync(`../../../../../../..${hostDir}`, path.join(rootfs, 'deep', 'er', 'link'));
    fs.mkdirSync(path.join(rootfs, hostDir), { recursive: true });
    const mounts: Mount[] = [
      { type: 'bind', source, target: '/rel-bind' },
      { type: 'tmpfs', target: '/rel-tmpfs' },
      { type: 'bind', source, target: '/deep/er/link/sub' },
    ];
    const r = await startWith(rootfs, mounts, hostDir);
    if (r !== 'refused') {
      expect(r.mountPoints).toEqual(expect.arrayContaining([hostDir, `${hostDir}/sub`]));
    }
    expectHostUntouched(hostDir);
  });

  test('a symlink above a file bind target: the file is created in the rootfs, never in the host dir', async () => {
    const { hostDir, source } = hostDirs();
    const rootfs = rootfsCopy();
    fs.symlinkSync(hostDir, path.join(rootfs, 'a'));
    fs.symlinkSync(`../../../../../../../..${hostDir}`, path.join(rootfs, 'b'));
    const file = path.join(source, 'from-source');
    for (const target of ['/a/newfile', '/a/x/y/newfile', '/b/newfile']) {
      await startWith(rootfs, [{ type: 'bind', source: file, target }], hostDir);
      expectHostUntouched(hostDir);
    }
  });

  test('a target symlinked to /etc: the tmpfs covers the container\'s /etc, the host\'s /etc is unchanged', async () => {
    const rootfs = rootfsCopy();
    fs.symlinkSync('/etc', path.join(rootfs, 'work-etc'));
    fs.symlinkSync('../../../../../../etc', path.join(rootfs, 'work-etc2'));
    const etcMountsBefore = hostMountsUnder('/etc');
    // A mark of this run: other tests may add users to the host's /etc/passwd meanwhile
    // (useradd), so the check is that this write never reached it, not that it is unchanged.
    const hostile = `hostile-${process.pid}-${Date.now()}`;
    const c = make({ rootfs, mounts: [{ type: 'tmpfs', target: '/work-etc' }, { type: 'tmpfs', target: '/work-etc2/sub' }] });
    const p = c.spawn(['sh', '-c', `ls -a /etc; echo ---; cat /proc/self/mountinfo; echo ${hostile} > /etc/passwd; sleep 0.3`], { stdio: 'pipe' });
    const out = p.output();
    await p.started;
    expect(hostMountsUnder('/etc')).toEqual(etcMountsBefore);
    const r = await out;
    expect(r.exitCode).toBe(0);
    const [listing, mountinfo] = r.stdout.split('---\n');
    expect(listing).not.toContain('passwd'); // the container's /etc is the tmpfs
    const etc = parseMountinfo(mountinfo).filter((m) => m.mountPoint === '/etc' || m.mountPoint === '/etc/sub');
    expect(etc.map((m) => m.fstype)).toEqual(['tmpfs', 'tmpfs']);
    const hostPasswd = fs.readFileSync('/etc/passwd', 'utf8');
    expect(hostPasswd).not.toContain(hostile);
    expect(hostPasswd).toMatch(/^root:x:0:0:/);
    expect(hostMountsUnder('/etc')).toEqual(etcMountsBefore);
    // The rootfs's own /etc is untouched too: the write went to the tmpfs.
    expect(fs.readFileSync(path.join(rootfs, 'etc', 'passwd'), 'utf8')).toMatch(/^root:x:0:0/);
  });
});

describe('CVE-2021-30465: a symlink swapped into a mount target while containers start', () => {
  test('a host-side racer exchanging a target directory with a symlink out never gets a mount onto the host dir', async () => {
    const { hostDir, source } = hostDirs();
    const rootfs = rootfsCopy('race');
    // /race is a real directory holding the targets; /race-link points at the host dir.
    // The racer exchanges the two names as fast as it can.
    fs.mkdirSync(path.join(rootfs, 'race', 'dir'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'race', 'tmp'), { recursive: true });
    const relative = `${'../'.repeat(12)}${hostDir.slice(1)}`;
    const linkTargets = [hostDir, relative];
    const swapper = fixture('swapper');
    let watching = true;
    const seenOnHost: string[] = [];
    const watcher = (async () => {
      while (watching) {
        for (const m of hostMountsUnder(hostDir)) seenOnHost.push(`${m.mountPoint} ${m.fstype}`);
        for (const e of fs.readdirSync(hostDir)) seenOnHost.push(`entry ${e}`);
        await sleep(2);
      }
    })();

    const outcomes = { refused: 0, inside: 0 };
    try {
      for (const linkTarget of linkTargets) {
        fs.rmSync(path.join(rootfs, 'race-link'), { force: true });
        fs.symlinkSync(linkTarget, path.join(rootfs, 'race-link'));
        const racer = spawn(swapper, [path.join(rootfs, 'race'), path.join(rootfs, 'race-link')], { stdio: ['ignore', 'pipe', 'inherit'] });
        let racerOut = '';
        racer.stdout.on('data', (d: Buffer) => (racerOut += d.toString()));
        await new Promise<void>((resolve) => racer.stdout.once('data', () => resolve()));
        try {
          for (let i = 0; i < 25; i++) {
            const mounts: Mount[] = [
              { type: 'bind', source, target: '/race/dir' },
              { type: 'tmpfs', target: '/race/tmp' },
              { type: 'bind', source: path.join(source, 'from-source'), target: '/race/file' },
            ];
            const r = await startWith(rootfs, mounts, hostDir);
            if (r === 'refused') {
              outcomes.refused++;
              continue;
            }
            outcomes.inside++;
            // Wherever the symlink led, the mounts are inside: at /race/... (which the racer
            // may since have renamed /race-link) or at the in-root path named like the host dir.
            for (const target of ['dir', 'tmp', 'file']) {
              const inside = [`/race/${target}`, `/race-link/${target}`, `${hostDir}/${target}`];
              expect({ target, found: r.mountPoints.filter((m) => inside.includes(m)).length, all: r.mountPoints }).toEqual({
                target,
                found: 1,
                all: r.mountPoints,
              });
            }
          }
        } finally {
          racer.kill('SIGTERM');
          // 'close', not 'exit': the racer's last line may arrive after it has exited.
          await new Promise((resolve) => racer.once('close', resolve));
        }
        expect(racerOut).toMatch(/swaps [1-9]\d*/);
      }
    } finally {
      watching = false;
      await watcher;
    }
    expect(seenOnHost).toEqual([]);
    expectHostUntouched(hostDir);
    expect(outcomes.refused + outcomes.inside).toBe(50);
    if (process.env.TSC_SECURITY_VERBOSE) console.log(outcomes);
  }, 120_000);
});
