/**
 * Bad inputs: a malformed `resources` or `cgroupParent` is a TypeError that names the
 * option, thrown by new Container before anything exists, and so is a value the kernel would
 * refuse (a CPU the host lacks); none of them leaves a cgroup behind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CgroupError, Container, ContainerExistsError } from '../../lib';
import type { ContainerOptions } from '../../lib/options/types';
import { cgroupsBelow, cgroupTestFile, emptyListing, rootfs, waitCgroupsBelow } from './support';
import { RUN_TAG } from '../support/unique';

const { parent, make } = cgroupTestFile('errors');

const bad: [string, ContainerOptions['resources'], RegExp][] = [
  ['memory as words', { memory: 'lots' }, /^resources\.memory: expected bytes/],
  ['memory 0', { memory: 0 }, /^resources\.memory: /],
  ['memory negative', { memory: -5 }, /^resources\.memory: /],
  ['memory with a bad unit', { memory: '64x' }, /^resources\.memory: /],
  ['memorySwap below memory', { memory: '64m', memorySwap: '32m' }, /^resources\.memorySwap: must be at least/],
  ['memorySwap without memory', { memorySwap: '64m' }, /^resources\.memorySwap: needs resources\.memory/],
  ['cpus 0', { cpus: 0 }, /^resources\.cpus: /],
  ['cpus as a string', { cpus: '0.5' as unknown as number }, /^resources\.cpus: /],
  ['cpus Infinity', { cpus: Infinity }, /^resources\.cpus: /],
  ['cpuWeight 0', { cpuWeight: 0 }, /^resources\.cpuWeight: expected an integer from 1 to 10000/],
  ['cpuWeight 10001', { cpuWeight: 10001 }, /^resources\.cpuWeight: /],
  ['cpuWeight 1.5', { cpuWeight: 1.5 }, /^resources\.cpuWeight: /],
  ['cpuset as words', { cpuset: 'first' }, /^resources\.cpuset: expected a CPU list/],
  ['cpuset as a number', { cpuset: 0 as unknown as string }, /^resources\.cpuset: /],
  ['pids 0', { pids: 0 }, /^resources\.pids: /],
  ['pids 1.5', { pids: 1.5 }, /^resources\.pids: /],
  ['pids as a string', { pids: '64' as unknown as number }, /^resources\.pids: /],
  ['an unknown key', { memroy: '64m' } as unknown as ContainerOptions['resources'], /^resources\.memroy: unknown option/],
  ['io.weight 0', { io: { weight: 0 } }, /^resources\.io\.weight: /],
  ['io unknown key', { io: { speed: 1 } } as unknown as ContainerOptions['resources'], /^resources\.io\.speed: /],
  ['io.readBps not an array', { io: { readBps: { device: '/dev/null', rate: '1m' } as unknown as [] } }, /^resources\.io\.readBps: /],
  ['io.readBps on a missing device', { io: { readBps: [{ device: '/dev/no-such-disk', rate: '1m' }] } }, /^resources\.io\.readBps\[0\]\.device: no such device/],
  ['io.readBps on a character device', { io: { readBps: [{ device: '/dev/null', rate: '1m' }] } }, /^resources\.io\.readBps\[0\]\.device: .* not a block device/],
  ['resources not an object', 'big' as unknown as ContainerOptions['resources'], /^resources: expected an object/],
];

test.each(bad)('resources with %s: TypeError naming the option, nothing made', (_name, resources, message) => {
  let error: unknown;
  try {
    make({ resources });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TypeError);
  expect((error as Error).message).toMatch(message);
  expect(cgroupsBelow(parent)).toEqual(emptyListing());
});

test.each([
  ['..', '/a/../b'],
  ['a leading ..', '../escape'],
  ['only ..', '..'],
  ['empty', ''],
  ['a NUL byte', '/a\0b'],
])('cgroupParent with %s: TypeError, nothing made', (_name, cgroupParent) => {
  expect(() => new Container({ rootfs, cgroupParent })).toThrow(TypeError);
  expect(() => new Container({ rootfs, cgroupParent })).toThrow(/^cgroupParent: /);
  expect(cgroupsBelow(parent)).toEqual(emptyListing());
});

test('a cgroupParent that is not a string: TypeError', () => {
  expect(() => new Container({ rootfs, cgroupParent: 5 as unknown as string })).toThrow(/^cgroupParent: /);
});

test.each([
  ['a CPU this host does not have', { cpuset: '1000' }, /^resources\.cpuset: CPU 1000 not present or not online/],
  ['more CPUs than this host has', { cpus: 1e9 }, /^resources\.cpus: expected 0\.01 to \d+, as there are only \d+ CPUs available/],
  ['a memory node this host does not have', { cpusetMems: '64' }, /^resources\.cpusetMems: memory node 64 not present or not online/],
])('a value the kernel would refuse (%s) is a TypeError in the constructor, nothing made', (_name, resources, message) => {
  expect(() => make({ resources })).toThrow(TypeError);
  expect(() => make({ resources })).toThrow(message);
  expect(cgroupsBelow(parent)).toEqual(emptyListing());
});

test('a cpuset the kernel would refuse in update(): rejected, the old cpuset stays', async () => {
  const c = make({ resources: { cpuset: '0' } });
  const p = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await p.started;
  await expect(c.update({ cpuset: '1000' })).rejects.toThrow(/^resources\.cpuset: CPU 1000 not present or not online/);
  const out = await c.exec(['grep', 'Cpus_allowed_list', '/proc/self/status'], { stdio: 'pipe' }).output();
  expect(out.stdout).toBe('Cpus_allowed_list:\t0\n');
});

test('spawn of a missing program with limits: ENOENT, and the cgroup goes', async () => {
  const c = make({ resources: { memory: '64m', pids: 16 } });
  const p = c.spawn(['/no/such/program']);
  await expect(p.started).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await waitCgroupsBelow(parent, emptyListing())).toEqual(emptyListing());
});

test('two containers with the same id at once: the second fails, the first keeps its cgroup', async () => {
  const id = `tsc-dup-${RUN_TAG}`;
  const a = make({ id });
  const pa = a.spawn(['sleep', '60']);
  await pa.started;
  // In the same state root, the state directory refuses the id before any cgroup is touched.
  expect(() => make({ id }).spawn(['true'])).toThrow(ContainerExistsError);
  // In another state root, the cgroup of that name does.
  const otherRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-dup-root-'));
  try {
    const pb = make({ id, stateRoot: otherRoot }).spawn(['true']);
    const error = await pb.started.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(CgroupError);
    expect(error).toMatchObject({ code: 'EEXIST' });
    // The failed make left no state directory behind.
    expect(fs.readdirSync(otherRoot)).toEqual([]);
  } finally {
    fs.rmSync(otherRoot, { recursive: true, force: true });
  }
  expect(pa.running).toBe(true);
  const listing = cgroupsBelow(parent);
  for (const names of Object.values(listing)) expect(names).toEqual([id]);
  await expect(a.stats()).resolves.toMatchObject({ pids: { current: 1 } });
});
