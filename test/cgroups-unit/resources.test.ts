/**
 * normalizeResources: what users write turned into the numbers both drivers use, and
 * the TypeErrors (naming the option's path) for what they get wrong.
 */
import * as fs from 'node:fs';
import { mergeResources, normalizeResources } from '../../lib/cgroups/resources';
import { testWhen } from '../support/skip';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** The path of some block device node of this host, if it has one. */
function blockDevice(): string | undefined {
  const names = fs.existsSync('/sys/class/block') ? fs.readdirSync('/sys/class/block') : [];
  return names.map((name) => `/dev/${name}`).find((d) => fs.existsSync(d) && fs.statSync(d).isBlockDevice());
}

describe('normalizeResources', () => {
  test('undefined: no resources; {}: no limits', () => {
    expect(normalizeResources(undefined)).toBeNull();
    expect(normalizeResources({})).toEqual({ ioThrottles: [] });
  });

  test.each([
    ['8192k', 8192 * KiB],
    ['64m', 64 * MiB],
    ['64M', 64 * MiB],
    ['1g', GiB],
    ['1.5g', 1.5 * GiB],
    ['64mb', 64 * MiB],
    ['64MiB', 64 * MiB],
    [' 32m ', 32 * MiB],
    ['8388608', 8 * MiB],
    [8388608, 8 * MiB],
  ])('memory %p → %i bytes', (memory, bytes) => {
    expect(normalizeResources({ memory })?.memoryBytes).toBe(bytes);
  });

  test('memorySwap: bytes, equal to memory, or unlimited', () => {
    expect(normalizeResources({ memory: '64m', memorySwap: '128m' })).toMatchObject({ memoryBytes: 64 * MiB, memorySwapBytes: 128 * MiB });
    expect(normalizeResources({ memory: '64m', memorySwap: '64m' })).toMatchObject({ memorySwapBytes: 64 * MiB });
    expect(normalizeResources({ memory: '64m', memorySwap: -1 })?.memorySwapBytes).toBe(-1);
    expect(normalizeResources({ memory: '64m', memorySwap: 'unlimited' as never })?.memorySwapBytes).toBe(-1);
  });

  test.each([
    [1, 100000],
    [0.5, 50000],
    [1.5, 150000],
    [0.01, 1000],
    [2, 200000],
  ])('cpus %p → quota %i µs per 100 ms', (cpus, quota) => {
    expect(normalizeResources({ cpus })?.cpuQuotaUs).toBe(quota);
  });

  test('cpuWeight, cpuset, cpusetMems, pids pass through', () => {
    expect(normalizeResources({ cpuWeight: 1, cpuset: '0', cpusetMems: '0', pids: 1 })).toEqual({
      cpuWeight: 1,
      cpuset: '0',
      cpusetMems: '0',
      pids: 1,
      ioThrottles: [],
    });
    expect(normalizeResources({ cpuWeight: 10000, pids: 4194304 })).toMatchObject({ cpuWeight: 10000, pids: 4194304 });
    // No limit, as memorySwap says it: -1 or "unlimited" (the default would be 2048).
    expect(normalizeResources({ pids: -1 })).toMatchObject({ pids: 'max' });
    expect(normalizeResources({ pids: 'unlimited' })).toMatchObject({ pids: 'max' });
  });

  // Any block device the host has (the kernel lists them all in /sys/class/block); on a host
  // with none, the test shows as skipped with its reason instead of passing without asserting.
  const device = blockDevice();
  testWhen(device, 'no block device on this host')('io: weight and throttles by device number', () => {
    if (!device) throw new Error('unreachable: skipped without a block device');
    const rdev = fs.statSync(device).rdev;
    const major = Math.floor(rdev / 256) & 0xfff;
    const minor = rdev & 0xff;
    const r = normalizeResources({
      io: { weight: 500, readBps: [{ device, rate: '10m' }], writeBps: [{ device, rate: 1024 }], readIops: [{ device, rate: 50 }], writeIops: [{ device, rate: 60 }] },
    });
    expect(r).toEqual({
      ioWeight: 500,
      ioThrottles: [
        { major, minor, kind: 'rbps', value: 10 * MiB },
        { major, minor, kind: 'wbps', value: 1024 },
        { major, minor, kind: 'riops', value: 50 },
        { major, minor, kind: 'wiops', value: 60 },
      ],
    });
  });

  test.each([
    [{ memory: 'lots' }, /^resources\.memory: expected bytes or a size like "512m", got "lots"$/],
    [{ memory: 0 }, /^resources\.memory: /],
    [{ memory: -1 }, /^resources\.memory: /],
    [{ memory: 1.5 }, /^resources\.memory: /],
    [{ memory: '5x' }, /^resources\.memory: /],
    [{ memory: null }, /^resources\.memory: /],
    [{ memory: '64m', memorySwap: '32m' }, /^resources\.memorySwap: must be at least resources\.memory/],
    [{ memorySwap: '64m' }, /^resources\.memorySwap: needs resources\.memory$/],
    [{ memory: '64m', memorySwap: 'x' }, /^resources\.memorySwap: /],
    [{ cpus: 0 }, /^resources\.cpus: /],
    [{ cpus: 0.001 }, /^resources\.cpus: /],
    [{ cpus: -1 }, /^resources\.cpus: /],
    [{ cpus: NaN }, /^resources\.cpus: /],
    [{ cpus: Infinity }, /^resources\.cpus: /],
    [{ cpus: '1' }, /^resources\.cpus: /],
    [{ cpuWeight: 0 }, /^resources\.cpuWeight: expected an integer from 1 to 10000, got 0$/],
    [{ cpuWeight: 10001 }, /^resources\.cpuWeight: /],
    [{ cpuWeight: 2.5 }, /^resources\.cpuWeight: /],
    [{ cpuset: '' }, /^resources\.cpuset: /],
    [{ cpuset: '0-' }, /^resources\.cpuset: /],
    [{ cpuset: 'a' }, /^resources\.cpuset: /],
    [{ cpuset: '0,,1' }, /^resources\.cpuset: /],
    [{ cpusetMems: 'x' }, /^resources\.cpusetMems: /],
    [{ pids: 0 }, /^resources\.pids: /],
    [{ pids: -2 }, /^resources\.pids: /],
    [{ pids: 4194305 }, /^resources\.pids: /],
    [{ pids: 2.5 }, /^resources\.pids: /],
    [{ pids: '10' }, /^resources\.pids: /],
    [{ swap: '1g' }, /^resources\.swap: unknown option/],
    [{ io: 5 }, /^resources\.io: /],
    [{ io: null }, /^resources\.io: /],
    [{ io: { weight: 0 } }, /^resources\.io\.weight: /],
    [{ io: { weight: 10001 } }, /^resources\.io\.weight: /],
    [{ io: { bps: [] } }, /^resources\.io\.bps: unknown option/],
    [{ io: { readBps: 'x' } }, /^resources\.io\.readBps: expected an array/],
    [{ io: { readBps: [5] } }, /^resources\.io\.readBps\[0\]: /],
    [{ io: { readBps: [{ device: 5, rate: 1 }] } }, /^resources\.io\.readBps\[0\]\.device: expected a block device path/],
    [{ io: { writeBps: [{ device: '/nonexistent', rate: 1 }] } }, /^resources\.io\.writeBps\[0\]\.device: no such device/],
    [{ io: { readIops: [{ device: '/dev/null', rate: 1 }] } }, /^resources\.io\.readIops\[0\]\.device: "\/dev\/null" is not a block device/],
    ['64m', /^resources: expected an object$/],
    [[], /^resources: expected an object$/],
    [null, /^resources: expected an object$/],
  ])('%p → TypeError %p', (resources, message) => {
    let error: unknown;
    try {
      normalizeResources(resources);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('mergeResources', () => {
  test('an update overrides only what it names and keeps the rest', () => {
    const base = normalizeResources({ memory: '64m', memorySwap: '64m', pids: 64, cpus: 1 });
    const update = normalizeResources({ memory: '128m' })!;
    expect(mergeResources(base, update)).toEqual({
      memoryBytes: 128 * MiB,
      memorySwapBytes: 64 * MiB,
      pids: 64,
      cpuQuotaUs: 100000,
      ioThrottles: [],
    });
  });

  test('no base: the update alone', () => {
    expect(mergeResources(null, normalizeResources({ pids: 5 })!)).toEqual({ pids: 5, ioThrottles: [] });
  });
});
