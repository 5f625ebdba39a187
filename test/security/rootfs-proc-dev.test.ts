/**
 * Escape class: a rootfs whose /proc is a symlink or a fake directory
 * (CVE-2019-16884); a /dev/null replaced by a symlink before masked paths are
 * mounted (CVE-2025-31133); /dev/console or /dev/pts tricks (CVE-2025-52565).
 *
 * Each test plants the trick in a rootfs copy, starts a container from it, and
 * checks that setup refused with a clear error or did not follow the trick:
 * the real procfs, the real null device over masked paths, fresh /dev mounts;
 * host files and directories that the symlinks name are unchanged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerSetupError, MASKED_PATHS } from '../../lib';
import type { ProcessOutput } from '../../lib';
import { cleanup, hostMountsUnder, make, parseMountinfo, rootfsCopy, sha256, tempDir } from './support';

afterEach(cleanup);

/** Host things a symlink in the rootfs points at: an empty dir and a file with a secret. */
function hostTargets(): { hostDir: string; hostFile: string; secret: string } {
  const hostDir = tempDir('host-dir');
  const fileDir = tempDir('host-file');
  const hostFile = path.join(fileDir, 'shadow');
  const secret = 'root:HOST-SECRET-HASH:19000:0:99999:7:::\n';
  fs.writeFileSync(hostFile, secret, { mode: 0o640 });
  return { hostDir, hostFile, secret };
}

function expectHostUntouched(t: { hostDir: string; hostFile: string; secret: string }): void {
  expect(fs.readdirSync(t.hostDir)).toEqual([]);
  expect(hostMountsUnder(t.hostDir)).toEqual([]);
  expect(fs.readFileSync(t.hostFile, 'utf8')).toBe(t.secret);
  expect(hostMountsUnder(path.dirname(t.hostFile))).toEqual([]);
}

/** Runs `script`; returns its output, or the setup error if the container was refused. */
async function attempt(rootfs: string, script: string): Promise<ProcessOutput | ContainerSetupError> {
  try {
    return await make({ rootfs }).spawn(['sh', '-c', script], { stdio: 'pipe' }).output();
  } catch (err) {
    expect(err).toBeInstanceOf(ContainerSetupError);
    return err as ContainerSetupError;
  }
}

/** The last mount at each mount point, from a mountinfo dump. */
function fstypes(mountinfo: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of parseMountinfo(mountinfo)) out[m.mountPoint] = m.fstype;
  return out;
}

describe('CVE-2019-16884: a rootfs whose /proc is a symlink or a fake directory', () => {
  test.each([
    ['absolute, to a host dir', (t: { hostDir: string }) => t.hostDir],
    ['relative, climbing out', (t: { hostDir: string }) => `../../../../../../..${t.hostDir}`],
    ['to a directory inside the rootfs', () => '/tmp/fakeproc'],
  ])('/proc as a symlink (%s) is refused with a clear error, or not followed', async (_name, linkTarget) => {
    const t = hostTargets();
    const rootfs = rootfsCopy('proc-link');
    fs.rmSync(path.join(rootfs, 'proc'), { recursive: true });
    fs.mkdirSync(path.join(rootfs, 'tmp', 'fakeproc', 'self'), { recursive: true });
    fs.writeFileSync(path.join(rootfs, 'tmp', 'fakeproc', 'self', 'status'), 'Name:\tFAKE\n');
    fs.symlinkSync(linkTarget(t), path.join(rootfs, 'proc'));
    const r = await attempt(rootfs, 'cat /proc/self/status; cat /proc/self/mountinfo');
    if (r instanceof ContainerSetupError) {
      expect(r.step).toBe('mount /proc');
      expect(r.code).toBe('ELOOP');
    } else {
      expect(r.exitCode).toBe(0);
      expect(r.stdout).not.toContain('FAKE');
      expect(fstypes(r.stdout)['/proc']).toBe('proc');
    }
    expectHostUntouched(t);
    // The fake directory inside the rootfs got nothing either.
    expect(fs.readdirSync(path.join(rootfs, 'tmp', 'fakeproc')).sort()).toEqual(['self']);
  });

  test('a fake /proc directory full of files is covered by the real procfs', async () => {
    const rootfs = rootfsCopy('proc-fake');
    const proc = path.join(rootfs, 'proc');
    fs.mkdirSync(path.join(proc, 'self', 'attr'), { recursive: true });
    fs.mkdirSync(path.join(proc, 'sys', 'kernel'), { recursive: true });
    fs.writeFileSync(path.join(proc, 'self', 'status'), 'Name:\tFAKE\nCapEff:\t000001ffffffffff\n');
    fs.writeFileSync(path.join(proc, 'self', 'attr', 'exec'), 'FAKE-LABEL');
    fs.writeFileSync(path.join(proc, 'sys', 'kernel', 'core_pattern'), 'FAKE');
    fs.writeFileSync(path.join(proc, 'fake-marker'), 'FAKE');
    fs.writeFileSync(path.join(proc, 'kcore'), 'FAKE-KCORE');
    fs.writeFileSync(path.join(proc, 'keys'), 'FAKE-KEYS');
    fs.symlinkSync('/etc', path.join(proc, 'mounts'));
    const r = await attempt(
      rootfs,
      'cat /proc/self/status; echo ---; cat /proc/self/mountinfo; echo ---; ls /proc/fake-marker 2>&1; cat /proc/kcore /proc/keys 2>/dev/null; cat /proc/sys/kernel/core_pattern',
    );
    expect(r).not.toBeInstanceOf(ContainerSetupError);
    const out = r as ProcessOutput;
    const [status, mountinfo, rest] = out.stdout.split('---\n');
    expect(status).toMatch(/^Name:\s+cat$/m);
    expect(out.stdout).not.toContain('FAKE');
    expect(rest).toMatch(/No such file/);
    expect(fstypes(mountinfo)['/proc']).toBe('proc');
    // The fake files are still in the rootfs, untouched.
    expect(fs.readFileSync(path.join(proc, 'fake-marker'), 'utf8')).toBe('FAKE');
  });
});

describe('CVE-2025-31133: /dev/null replaced by a symlink before masked paths are mounted', () => {
  test.each([
    ['absolute, to a host secret', (t: { hostFile: string }) => t.hostFile],
    ['relative, climbing out to a host secret', (t: { hostFile: string }) => `../../../../../../..${t.hostFile}`],
    ['to the rootfs\'s own /etc/shadow', () => '/etc/shadow'],
    ['to /proc/sys/kernel/core_pattern', () => '/proc/sys/kernel/core_pattern'],
  ])('/dev/null as a symlink (%s): masked paths still get the real null device', async (_name, linkTarget) => {
    const t = hostTargets();
    const rootfs = rootfsCopy('devnull');
    fs.writeFileSync(path.join(rootfs, 'etc', 'shadow'), 'root:ROOTFS-SECRET:19000::::::\n', { mode: 0o640 });
    fs.symlinkSync(linkTarget(t), path.join(rootfs, 'dev', 'null'));
    const corePatternBefore = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const masked = MASKED_PATHS.filter((p) => p.startsWith('/proc/'));
    const script = [
      // Every masked path that exists: what it is and what reading it gives.
      ...masked.map((p) => `if [ -e ${p} ]; then if [ -d ${p} ]; then echo "${p} dir $(ls -A ${p} | wc -l)"; else echo "${p} $(stat -c '%F %t:%T' ${p}) bytes=$(cat ${p} 2>/dev/null | wc -c)"; fi; fi`),
      'echo "/dev/null $(stat -c \'%F %t:%T\' /dev/null)"',
      // Writes to masked files go to the null device, not to a file.
      ...masked.map((p) => `[ -f ${p} -o -c ${p} ] && echo OVERWRITTEN > ${p} 2>/dev/null`),
      'echo OVERWRITTEN > /dev/null',
      'true',
    ].join('\n');
    const r = await attempt(rootfs, script);
    if (r instanceof ContainerSetupError) {
      // Refusing the whole rootfs is also safe, if it names /dev/null.
      expect(r.message).toMatch(/\/dev\/null|mask/);
    } else {
      expect(r.exitCode).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toContain('/dev/null character special file 1:3');
      const fileLines = lines.filter((l) => !l.includes(' dir ') && l.startsWith('/proc/'));
      expect(fileLines.length).toBeGreaterThan(0);
      for (const l of fileLines) expect(l).toMatch(/ character special file 1:3 bytes=0$/);
      for (const l of lines.filter((l) => l.includes(' dir '))) expect(l).toMatch(/ dir 0$/);
    }
    expectHostUntouched(t);
    expect(fs.readFileSync(path.join(rootfs, 'etc', 'shadow'), 'utf8')).toBe('root:ROOTFS-SECRET:19000::::::\n');
    expect(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(corePatternBefore);
  });

  test('a /dev that is itself a symlink out of the rootfs is refused or not followed', async () => {
    const t = hostTargets();
    const rootfs = rootfsCopy('dev-link');
    fs.rmSync(path.join(rootfs, 'dev'), { recursive: true });
    fs.symlinkSync(t.hostDir, path.join(rootfs, 'dev'));
    const r = await attempt(rootfs, 'stat -c "%F %t:%T" /dev/null; cat /proc/self/mountinfo');
    if (r instanceof ContainerSetupError) {
      expect(r.step).toMatch(/\/dev/);
      expect(r.code).toBe('ELOOP');
    } else {
      expect(r.stdout).toContain('character special file 1:3');
      expect(fstypes(r.stdout)['/dev']).toBe('tmpfs');
    }
    expectHostUntouched(t);
  });
});

describe('CVE-2025-52565: /dev/console and /dev/pts tricks', () => {
  test('/dev/console, /dev/pts, /dev/ptmx, /dev/shm, /dev/mqueue, /dev/tty as symlinks out: not followed', async () => {
    const t = hostTargets();
    const rootfs = rootfsCopy('console');
    const dev = path.join(rootfs, 'dev');
    fs.symlinkSync(t.hostFile, path.join(dev, 'console'));
    fs.symlinkSync(t.hostDir, path.join(dev, 'pts'));
    fs.symlinkSync(t.hostFile, path.join(dev, 'ptmx'));
    fs.symlinkSync(`../../../../../..${t.hostDir}`, path.join(dev, 'shm'));
    fs.symlinkSync(t.hostDir, path.join(dev, 'mqueue'));
    fs.symlinkSync(t.hostFile, path.join(dev, 'tty'));
    fs.symlinkSync(t.hostFile, path.join(dev, 'urandom'));
    const hostFileDigest = sha256(t.hostFile);
    const script = [
      'cat /proc/self/mountinfo',
      'echo ---',
      'for f in /dev/console /dev/pts /dev/ptmx /dev/shm /dev/mqueue /dev/tty /dev/urandom; do echo "$f $(stat -c %F $f 2>&1) -> $(readlink $f)"; done',
      'echo INJECTED > /dev/console 2>/dev/null; echo INJECTED > /dev/ptmx 2>/dev/null; touch /dev/shm/x /dev/pts/x 2>/dev/null',
      'cat /dev/console 2>/dev/null | head -c 100',
      'true',
    ].join('\n');
    const r = await attempt(rootfs, script);
    if (r instanceof ContainerSetupError) {
      expect(r.step).toMatch(/\/dev/);
    } else {
      expect(r.exitCode).toBe(0);
      const [mountinfo, listing] = r.stdout.split('---\n');
      const types = fstypes(mountinfo);
      expect(types['/dev']).toBe('tmpfs');
      expect(types['/dev/pts']).toBe('devpts');
      expect(types['/dev/shm']).toBe('tmpfs');
      expect(types['/dev/mqueue']).toBe('mqueue');
      expect(listing).not.toContain('HOST-SECRET');
      expect(listing).not.toContain(t.hostFile);
      expect(listing).not.toContain(t.hostDir);
      expect(listing).toMatch(/^\/dev\/pts directory/m);
      expect(listing).toMatch(/^\/dev\/tty character special file/m);
      expect(listing).toMatch(/^\/dev\/urandom character special file/m);
      expect(listing).toMatch(/^\/dev\/ptmx symbolic link -> pts\/ptmx$/m);
    }
    expectHostUntouched(t);
    expect(sha256(t.hostFile)).toBe(hostFileDigest);
  });

  test('a container cannot point its /dev/console at a host file after start', async () => {
    // Even with the container's own /dev writable, a symlink made there resolves inside the container.
    const t = hostTargets();
    const rootfs = rootfsCopy('console-late');
    const r = await attempt(rootfs, `ln -sf ${t.hostFile} /dev/console && echo INJECTED > /dev/console; cat ${t.hostFile} 2>&1; true`);
    expect(r).not.toBeInstanceOf(ContainerSetupError);
    expect((r as ProcessOutput).stdout).not.toContain('HOST-SECRET');
    expectHostUntouched(t);
  });
});
