/**
 * Values the kernel would refuse at spawn are refused in the constructor, as a TypeError naming
 * the option: more CPUs than the machine has, CPUs or memory nodes that are not online, a time
 * namespace offset out of the kernel's range, a memory limit that is a fraction of a byte or
 * below docker's minimum, a hostname longer than the kernel's 64 characters. Arguments and
 * environment beyond execve's limits are E2BIG as Node's spawn() throws it. No message carries
 * a raw NUL.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import type { Capability, ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const { make, tempDirs } = useContainers();

function stateRoot(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'validation-limits-'));
  tempDirs.push(dir);
  return dir;
}

/** What `new Container(options)` threw. */
function constructorError(options: ContainerOptions): Error {
  try {
    new Container(options);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected new Container(${JSON.stringify(options)}) to throw`);
}

describe('bad values are TypeErrors in the constructor, naming the option', () => {
  const cpus = os.availableParallelism();
  test.each<[string, ContainerOptions, RegExp]>([
    ['cpus: 1e9', { resources: { cpus: 1e9 } }, /^resources\.cpus: expected 0\.01 to \d+, as there are only \d+ CPUs available/],
    ['cpus: one more than the machine has', { resources: { cpus: cpus + 1 } }, /^resources\.cpus: /],
    ["cpuset: '99'", { resources: { cpuset: '99' } }, /^resources\.cpuset: CPU 99 not present or not online/],
    ["cpuset: a range backwards", { resources: { cpuset: '1-0' } }, /^resources\.cpuset: expected ranges that go upwards/],
    ["cpusetMems: '7'", { resources: { cpusetMems: '7' } }, /^resources\.cpusetMems: memory node 7 not present or not online/],
    ['timens.monotonicOffset past the kernel range', { timens: { monotonicOffset: 1e15 } }, /^timens\.monotonicOffset: expected -\d+ to \d+ seconds/],
    ['timens.boottimeOffset before 0', { timens: { boottimeOffset: -1e12 } }, /^timens\.boottimeOffset: expected -\d+ to \d+ seconds/],
    ["memory: '0.5' (half a byte)", { resources: { memory: '0.5' } }, /^resources\.memory: expected bytes/],
    ['memory: 1 byte', { resources: { memory: 1 } }, /^resources\.memory: must be at least 6m/],
    ["memory: '1m'", { resources: { memory: '1m' } }, /^resources\.memory: must be at least 6m/],
    ['hostname of 65 characters', { hostname: `${'a'.repeat(31)}.${'b'.repeat(33)}` }, /^hostname: expected at most 64 characters/],
    ['hostname with a character hostnames do not have', { hostname: 'a_b' }, /^hostname: expected a hostname/],
  ])('%s', (_name, options, pattern) => {
    const error = constructorError({ rootfs, ...options });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(pattern);
  });

  test('the limits themselves are accepted, and the kernel takes them', async () => {
    const hostname = `${'a'.repeat(31)}.${'b'.repeat(32)}`;
    const c = make({
      rootfs,
      readonly: true,
      stateRoot: stateRoot(),
      hostname,
      // A monotonic clock moved back to (almost) 0: the least the kernel allows.
      timens: { monotonicOffset: -Math.floor(Number(process.hrtime.bigint() / 1_000_000_000n)) + 5 },
      resources: { cpus: os.availableParallelism(), cpuset: '0', memory: '6m' },
    });
    const r = await c.spawn(['sh', '-c', 'hostname; cut -d. -f1 /proc/uptime'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout.split('\n')[0]).toBe(hostname);
  });

  test('a size with a unit may have a fraction; whole bytes are kept', () => {
    expect(new Container({ resources: { memory: '6.5m' } }).config.resources?.memoryBytes).toBe(6.5 * 1024 * 1024);
    expect(new Container({ resources: { memory: '0.01g' } }).config.resources?.memoryBytes).toBe(Math.floor(0.01 * 1024 ** 3));
  });

  test('an error message never carries a raw NUL: it is shown escaped', () => {
    const messages = [
      constructorError({ env: { 'A\0B': 'x' } }).message,
      constructorError({ 'bad\0key': 1 } as unknown as ContainerOptions).message,
      constructorError({ capabilities: { add: ['CAP_\0X' as string as Capability] } }).message,
      constructorError({ rlimits: { ['no\0file' as 'nofile']: 1 } }).message,
    ];
    for (const message of messages) expect(message).not.toContain('\0');
    expect(messages[0]).toBe('env.A\\0B: invalid variable name');
  });
});

describe("arguments and environment beyond execve's limits: E2BIG as Node's spawn() throws it", () => {
  const KiB = 1024;
  const e2big = { code: 'E2BIG', errno: -os.constants.errno.E2BIG, syscall: 'spawn', message: 'spawn E2BIG' };

  /** Throws what spawn()/exec() threw synchronously. */
  function thrown(fn: () => unknown): Error {
    try {
      fn();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a synchronous throw');
  }

  test('one string over 128 KiB: spawn() throws, and nothing is made', () => {
    const root = stateRoot();
    const c = make({ rootfs, readonly: true, stateRoot: root });
    expect(thrown(() => c.spawn(['echo', 'x'.repeat(128 * KiB)]))).toMatchObject(e2big);
    expect(thrown(() => c.spawn(['true'], { env: { BIG: 'y'.repeat(128 * KiB) } }))).toMatchObject(e2big);
    expect(fs.readdirSync(root).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  test('exec: one string over 128 KiB, or a total over the room the stack limit gives', async () => {
    const c = make({ rootfs, readonly: true, stateRoot: stateRoot() });
    const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await main.started;
    expect(thrown(() => c.exec(['echo', 'x'.repeat(128 * KiB)]))).toMatchObject(e2big);
    // Each string fits; 20 x 110 KiB is more than the 2 MiB an 8 MiB stack limit gives.
    const many = Array.from({ length: 20 }, () => 'y'.repeat(110 * KiB));
    expect(thrown(() => c.exec(['echo', ...many]))).toMatchObject(e2big);
  });

  test("the container's stack limit sets the room: 1 MiB leaves 256 KiB", async () => {
    const args = Array.from({ length: 3 }, () => 'z'.repeat(100 * KiB));
    const small = make({ rootfs, readonly: true, stateRoot: stateRoot(), rlimits: { stack: 1024 * KiB } });
    expect(thrown(() => small.spawn(['echo', ...args]))).toMatchObject(e2big);
    // The same arguments under the default limit reach the program.
    const r = await make({ rootfs, readonly: true, stateRoot: stateRoot() }).spawn(['sh', '-c', 'echo $#', 'sh', ...args], { stdio: 'pipe' }).output();
    expect(r).toMatchObject({ exitCode: 0, stdout: '3\n' });
  });

  test('1.5 MiB of arguments, under the kernel limit, reach the program', async () => {
    const many = Array.from({ length: 20 }, (_, i) => String(i % 10).repeat(75 * KiB));
    const c = make({ rootfs, readonly: true, stateRoot: stateRoot() });
    const r = await c.spawn(['sh', '-c', 'echo $#; printf %s "${20}" | wc -c', 'sh', ...many], { stdio: 'pipe' }).output();
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    expect(r.stdout.split(/\s+/).filter(Boolean)).toEqual(['20', String(75 * KiB)]);
  });

  test("an E2BIG only execve finds (the PATH search lengthens the program's path) is an 'error' of the same shape", async () => {
    const env = { PATH: '/bin' };
    const c = make({ rootfs, readonly: true, stateRoot: stateRoot(), env: {} });
    const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await main.started;
    // Strings and pointers that fill the room exactly, counting the program as "true": execve
    // copies "/bin/true", 5 bytes more, and refuses.
    const room = 2 * 1024 * KiB;
    const envStrings = Object.entries({ ...c.config.env, ...env }).map(([k, v]) => `${k}=${v}`);
    const count = 17;
    const fixed = envStrings.reduce((n, s) => n + s.length + 1, 0) + 2 * 'true\0'.length + (1 + count + envStrings.length) * 8;
    const each = Math.floor((room - fixed) / count);
    const args = Array.from({ length: count }, (_, i) => 'w'.repeat((i === count - 1 ? room - fixed - each * (count - 1) : each) - 1));
    const p = c.exec(['true', ...args], { env, stdio: 'ignore' });
    const event = new Promise<Error>((resolve) => p.once('error', resolve));
    await expect(p.wait()).rejects.toMatchObject(e2big);
    expect(await event).toMatchObject(e2big);
  });
});
