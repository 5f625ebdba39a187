/**
 * Every error a user can meet, with its exact shape, and after each one nothing left on
 * the host: bad options (TypeError naming the option path, thrown before anything is
 * created), a missing program (ENOENT as child_process), a setup failure in the helper
 * (ContainerSetupError naming the step and errno), exec into a stopped container.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ContainerSetupError } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { assertNothingLeft, snapshot, Snapshot } from './support/leftovers';

const rootfs = ensureBusyboxRootfs();
const base: ContainerOptions = { rootfs, readonly: true };

let before: Snapshot;

beforeAll(async () => {
  // Warm up: the first container may open long-lived handles (libuv, the addon) that are not leaks.
  const c = new Container(base);
  await c.spawn(['true'], { stdio: 'pipe' }).output();
  await c.exec(['true']).wait().catch(() => undefined);
  await c.destroy();
});

beforeEach(() => {
  before = snapshot();
});

/** Returns what fn threw synchronously, or what its promise rejected with. */
async function failure(fn: () => unknown): Promise<any> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, got success');
}

describe('bad options: a TypeError naming the option path, before anything is created', () => {
  const cases: [string, unknown, RegExp][] = [
    ['mounts[0].target relative', { mounts: [{ type: 'bind', source: '/tmp', target: 'relative' }] }, /^mounts\[0\]\.target: /],
    ['mounts[1].target missing', { mounts: [{ type: 'tmpfs', target: '/a' }, { type: 'tmpfs' }] }, /^mounts\[1\]\.target: /],
    ['mounts[0].type unknown', { mounts: [{ type: 'nfs', target: '/x' }] }, /^mounts\[0\]\.type: /],
    ['mounts[0].size bad', { mounts: [{ type: 'tmpfs', target: '/x', size: '64q' }] }, /^mounts\[0\]\.size: /],
    ['mounts[0].mode bad', { mounts: [{ type: 'tmpfs', target: '/x', mode: '999' }] }, /^mounts\[0\]\.mode: /],
    ['mounts[0].source missing', { mounts: [{ type: 'bind', target: '/x' }] }, /^mounts\[0\]\.source: /],
    ['mounts not an array', { mounts: {} }, /^mounts: /],
    ['hostname', { hostname: 'bad host!' }, /^hostname: /],
    ['hostname type', { hostname: 5 }, /^hostname: /],
    ['id', { id: 'bad id' }, /^id: /],
    ['network', { network: 'bad/name' }, /^network.name: expected a network name/],
    ['user.uid negative', { user: { uid: -1 } }, /^user\.uid: /],
    ['user.gid', { user: { uid: 1, gid: 'x' } }, /^user\.gid: /],
    ['user.groups[1]', { user: { uid: 1, groups: [1, 1.5] } }, /^user\.groups\[1\]: /],
    ['env value', { env: { A: 1 } }, /^env\.A: /],
    ['cwd relative', { cwd: 'work' }, /^cwd: /],
    ['readonly type', { readonly: 'yes' }, /^readonly: /],
    ['init type', { init: 1 }, /^init: /],
    ['capabilities.add[0]', { capabilities: { add: ['CAP_BOGUS'] } }, /^capabilities\.add\[0\]: /],
    ['capabilities.drop[1]', { capabilities: { drop: ['CHOWN', 'NOPE'] } }, /^capabilities\.drop\[1\]: /],
    ['rlimits unknown', { rlimits: { files: 10 } }, /^rlimits\.files: /],
    ['rlimits soft > hard', { rlimits: { nofile: { soft: 10, hard: 5 } } }, /^rlimits\.nofile: /],
    ['userns maps', { userns: { uidMap: [], gidMap: [] } }, /^userns\.uidMap: /],
    ['timens offset', { timens: { monotonicOffset: 'x' } }, /^timens\.monotonicOffset: /],
    ['unknown option', { rootFS: '/x' }, /^rootFS: /],
  ];

  test.each(cases)('%s', async (_name, options, message) => {
    let error: any;
    try {
      new Container(options as ContainerOptions);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
    await assertNothingLeft(before);
  });

  test('a bad process option throws synchronously from spawn, and nothing starts', async () => {
    const c = new Container(base);
    for (const [opts, message] of [
      [{ timeout: -1 }, /^timeout: /],
      [{ cwd: 'rel' }, /^cwd: /],
      [{ env: { A: 2 } }, /^env\.A: /],
      [{ user: { uid: 'root' } }, /^user\.uid: /],
      [{ killSignal: 'SIGNOPE' }, /^killSignal: /],
      [{ stdio: ['pipe', 'bogus'] }, /^stdio\[1\]: /],
    ] as [object, RegExp][]) {
      expect(() => c.spawn(['true'], opts as any)).toThrow(TypeError);
      expect(() => c.spawn(['true'], opts as any)).toThrow(message);
    }
    expect(() => c.spawn([])).toThrow(TypeError);
    expect(() => c.spawn('true' as any)).toThrow(TypeError);
    // The container is still usable: nothing was started by the bad calls.
    expect(await c.spawn(['sh', '-c', 'exit 6'], { stdio: 'ignore' }).wait()).toMatchObject({ exitCode: 6, signal: null });
    await c.destroy();
    await assertNothingLeft(before);
  });
});

describe('a missing program', () => {
  test('spawn: ENOENT with syscall "spawn <name>", on wait() and on the error event', async () => {
    const c = new Container(base);
    const p = c.spawn(['no-such-program', 'arg'], { stdio: 'pipe' });
    const errorEvent = new Promise<any>((resolve) => p.on('error', resolve));
    const err = await failure(() => p.wait());
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('spawn no-such-program');
    expect(err.path).toBe('no-such-program');
    expect(err.spawnargs).toEqual(['arg']);
    expect(err.message).toBe('spawn no-such-program ENOENT');
    expect(await errorEvent).toBe(err);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('an absolute path that does not exist', async () => {
    const c = new Container(base);
    const err = await failure(() => c.spawn(['/bin/nope'], { stdio: 'ignore' }).wait());
    expect([err.code, err.syscall]).toEqual(['ENOENT', 'spawn /bin/nope']);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('a program that exists on the host but not in the rootfs', async () => {
    expect(fs.existsSync('/usr/bin/env')).toBe(true);
    const c = new Container(base);
    const err = await failure(() => c.spawn(['/usr/bin/env'], { stdio: 'ignore' }).wait());
    expect([err.code, err.syscall]).toEqual(['ENOENT', 'spawn /usr/bin/env']);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('a file that is not executable: EACCES', async () => {
    const c = new Container(base);
    const err = await failure(() => c.spawn(['/etc/passwd'], { stdio: 'ignore' }).wait());
    expect([err.code, err.syscall]).toEqual(['EACCES', 'spawn /etc/passwd']);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('output() rejects the same way', async () => {
    const c = new Container(base);
    const err = await failure(() => c.spawn(['no-such-program'], { stdio: 'pipe' }).output());
    expect([err.code, err.syscall]).toEqual(['ENOENT', 'spawn no-such-program']);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('exec: ENOENT, and the container keeps running', async () => {
    const c = new Container(base);
    const main = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    const e = c.exec(['no-such-program'], { stdio: 'pipe' });
    const err = await failure(() => e.wait());
    expect([err.code, err.syscall]).toEqual(['ENOENT', 'spawn no-such-program']);
    expect(main.exitCode).toBeNull();
    expect(await c.exec(['sh', '-c', 'exit 3']).wait()).toMatchObject({ exitCode: 3, signal: null });
    await c.destroy();
    await assertNothingLeft(before);
  });
});

describe('a failure during setup: ContainerSetupError naming the step and errno', () => {
  test('a bind mount whose source does not exist', async () => {
    const missing = path.join(os.tmpdir(), `no-such-dir-${process.pid}`);
    const c = new Container({ ...base, mounts: [{ type: 'bind', source: missing, target: '/work' }] });
    const p = c.spawn(['true'], { stdio: 'pipe' });
    const errorEvent = new Promise<any>((resolve) => p.on('error', resolve));
    const err = await failure(() => p.wait());
    expect(err).toBeInstanceOf(ContainerSetupError);
    expect(err.name).toBe('ContainerSetupError');
    expect(err.step).toMatch(/\/work|no-such-dir/);
    expect(err.code).toBe('ENOENT');
    expect(Math.abs(err.errno)).toBe(os.constants.errno.ENOENT);
    expect(err.message.startsWith(`${err.step}: ENOENT`)).toBe(true);
    // Classified by the helper's step id (a bind source), not by the step's text.
    expect(err.message).toContain('The bind mount source does not exist on the host');
    expect(await errorEvent).toBe(err);
    expect(p.pid).toBeUndefined();
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('the failure comes from the first failing mount', async () => {
    const ok = fs.mkdtempSync(path.join(os.tmpdir(), 'err-ok-'));
    try {
      const c = new Container({
        ...base,
        mounts: [
          { type: 'bind', source: ok, target: '/work' },
          { type: 'tmpfs', target: '/mnt' },
          { type: 'bind', source: '/no/such/source', target: '/home' },
        ],
      });
      const err = await failure(() => c.spawn(['true'], { stdio: 'ignore' }).wait());
      expect(err).toBeInstanceOf(ContainerSetupError);
      expect(err.step).toMatch(/\/home|\/no\/such\/source/);
      expect(err.code).toBe('ENOENT');
      await c.destroy();
    } finally {
      fs.rmSync(ok, { recursive: true, force: true });
    }
    await assertNothingLeft(before);
  });

  test('a tmpfs on a target that a read-only mount cannot have: EROFS, and what to do', async () => {
    const source = fs.mkdtempSync(path.join(os.tmpdir(), 'err-ro-'));
    try {
      const c = new Container({
        ...base,
        mounts: [
          { type: 'bind', source, target: '/ro', readonly: true },
          { type: 'tmpfs', target: '/ro/sub' },
        ],
      });
      const err = await failure(() => c.spawn(['true'], { stdio: 'ignore' }).wait());
      expect(err).toBeInstanceOf(ContainerSetupError);
      expect({ step: err.step, code: err.code }).toEqual({ step: 'mount /ro/sub', code: 'EROFS' });
      // Classified by the helper's step id (a mount), not by the step's text.
      expect(err.message).toContain('so it cannot be created; create it in the rootfs or mount a tmpfs on its parent');
      expect(fs.readdirSync(source)).toEqual([]);
      await c.destroy();
    } finally {
      fs.rmSync(source, { recursive: true, force: true });
    }
    await assertNothingLeft(before);
  });

  test('a rootfs that does not exist', async () => {
    const c = new Container({ rootfs: path.join(os.tmpdir(), `no-such-rootfs-${process.pid}`) });
    const err = await failure(() => c.spawn(['true'], { stdio: 'ignore' }).wait());
    expect(err).toBeInstanceOf(ContainerSetupError);
    expect(err.code).toBe('ENOENT');
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('an rlimit above the hard limit (no CAP_SYS_RESOURCE here): EPERM', async () => {
    const hard = Number(/^Max open files\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
    const hasSysResource = (BigInt('0x' + /^CapEff:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) >> 24n) & 1n;
    if (hasSysResource || !Number.isFinite(hard)) {
      // This machine may raise limits; the failure cannot be provoked here.
      return;
    }
    const c = new Container({ ...base, rlimits: { nofile: { soft: hard + 1, hard: hard + 1 } } });
    const err = await failure(() => c.spawn(['true'], { stdio: 'ignore' }).wait());
    expect(err).toBeInstanceOf(ContainerSetupError);
    expect(err.code).toBe('EPERM');
    expect(err.step).toMatch(/nofile|rlimit/i);
    expect(err.message.startsWith(`${err.step}: EPERM`)).toBe(true);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('a cwd that does not exist', async () => {
    const c = new Container({ ...base, cwd: '/no/such/dir' });
    const err = await failure(() => c.spawn(['true'], { stdio: 'ignore' }).wait());
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ENOENT');
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('setup failures in a loop leave nothing behind', async () => {
    for (let i = 0; i < 10; i++) {
      const c = new Container({ ...base, mounts: [{ type: 'bind', source: `/no/such/source/${i}`, target: '/work' }] });
      const err = await failure(() => c.spawn(['true']).output());
      expect(err).toBeInstanceOf(ContainerSetupError);
      await c.destroy();
    }
    await assertNothingLeft(before);
  });
});

describe('exec into a container whose main process has exited', () => {
  test('rejects with ECONTAINERSTOPPED', async () => {
    const c = new Container(base);
    expect(await c.spawn(['true'], { stdio: 'ignore' }).wait()).toMatchObject({ exitCode: 0, signal: null });
    const err = await failure(() => c.exec(['true'], { stdio: 'pipe' }).wait());
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ECONTAINERSTOPPED');
    expect(err.message).toMatch(/exited|stopped/);
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('after the main process was killed', async () => {
    const c = new Container(base);
    const p = c.spawn(['sleep', '30'], { stdio: 'ignore' });
    await new Promise<void>((r) => p.once('spawn', r));
    p.kill('SIGKILL');
    await p.wait();
    const err = await failure(() => c.exec(['true']).output());
    expect(err.code).toBe('ECONTAINERSTOPPED');
    await c.destroy();
    await assertNothingLeft(before);
  });

  test('when the main process failed to start', async () => {
    const c = new Container(base);
    await failure(() => c.spawn(['no-such-program']).wait());
    const err = await failure(() => c.exec(['true']).wait());
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ECONTAINERSTOPPED');
    await c.destroy();
    await assertNothingLeft(before);
  });
});
