/**
 * The v1 and v2 drivers over a fake cgroupfs: a temp dir with hand-written files. Checks
 * the files and values written for each limit, and the stats read from kernel-format text.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeResources, NormalizedResources } from '../../lib/cgroups/resources';
import { applyV2Limits, readV2Stats, readV2Usage, v2ControllersFor, v2LimitWrites } from '../../lib/cgroups/v2-driver';
import { applyV1Limits, ioWeightToBlkio, readV1Stats, readV1Usage, v1LimitWrites, weightToShares } from '../../lib/cgroups/v1-driver';
import { emptyStats, parseFlatKeyed, parseLimit } from '../../lib/cgroups/stats';

const MiB = 1024 * 1024;
const tempDirs: string[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-cg-unit-'));
  tempDirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

function read(dir: string, name: string): string {
  return fs.readFileSync(path.join(dir, name), 'utf8');
}

function norm(r: Parameters<typeof normalizeResources>[0]): NormalizedResources {
  return normalizeResources(r) as NormalizedResources;
}

describe('weight mappings', () => {
  test.each([
    [1, 2],
    [10000, 262144],
    [100, 2597],
    [5000, 131060],
  ])('weightToShares(%i) = %i', (weight, shares) => {
    expect(weightToShares(weight)).toBe(shares);
  });

  test('weightToShares is monotonic and stays within v1 bounds', () => {
    let last = 0;
    for (let w = 1; w <= 10000; w += 37) {
      const s = weightToShares(w);
      expect(s).toBeGreaterThanOrEqual(last);
      expect(s).toBeGreaterThanOrEqual(2);
      expect(s).toBeLessThanOrEqual(262144);
      last = s;
    }
  });

  test.each([
    [1, 10],
    [10000, 1000],
    [100, 20],
    [5000, 505],
  ])('ioWeightToBlkio(%i) = %i', (weight, blkio) => {
    expect(ioWeightToBlkio(weight)).toBe(blkio);
  });
});

describe('cgroup v2 driver', () => {
  test('v2LimitWrites: every limit to its file, in an order the kernel accepts', () => {
    const r: NormalizedResources = {
      memoryBytes: 64 * MiB,
      memorySwapBytes: 96 * MiB,
      cpuQuotaUs: 150000,
      cpuWeight: 200,
      cpuset: '0-1',
      cpusetMems: '0',
      pids: 64,
      ioWeight: 300,
      ioThrottles: [
        { major: 254, minor: 0, kind: 'rbps', value: 1048576 },
        { major: 254, minor: 0, kind: 'wiops', value: 100 },
      ],
    };
    expect(v2LimitWrites(r)).toEqual([
      ['cpuset.cpus', '0-1'],
      ['cpuset.mems', '0'],
      ['memory.max', String(64 * MiB)],
      // v2 limits swap alone: memory+swap minus memory.
      ['memory.swap.max', String(32 * MiB)],
      ['cpu.max', '150000 100000'],
      ['cpu.weight', '200'],
      ['pids.max', '64'],
      ['io.weight', 'default 300'],
      ['io.max', '254:0 rbps=1048576'],
      ['io.max', '254:0 wiops=100'],
    ]);
  });

  test('memorySwap equal to memory: no swap; -1: unlimited swap', () => {
    expect(v2LimitWrites(norm({ memory: '32m', memorySwap: '32m' }))).toEqual([
      ['memory.max', String(32 * MiB)],
      ['memory.swap.max', '0'],
    ]);
    expect(v2LimitWrites(norm({ memory: '32m', memorySwap: -1 }))).toEqual([
      ['memory.max', String(32 * MiB)],
      ['memory.swap.max', 'max'],
    ]);
  });

  test('no limits: nothing written', () => {
    expect(v2LimitWrites(norm({}))).toEqual([]);
    expect(v2ControllersFor(norm({}))).toEqual([]);
  });

  test('v2ControllersFor names the controllers the limits need', () => {
    expect(v2ControllersFor(norm({ memory: '8m' })).sort()).toEqual(['memory']);
    expect(v2ControllersFor(norm({ cpus: 1, pids: 5, cpuset: '0' })).sort()).toEqual(['cpu', 'cpuset', 'pids']);
    expect(v2ControllersFor(norm({ cpuWeight: 5, io: { weight: 5 } })).sort()).toEqual(['cpu', 'io']);
  });

  test('applyV2Limits writes the files; memory.swap.max is skipped where the kernel has no swap accounting', () => {
    const dir = tempDir();
    // The kernel's files exist before they are written; memory.swap.max does not here.
    write(dir, { 'memory.max': 'max\n', 'pids.max': 'max\n', 'cpu.max': 'max 100000\n', 'cpu.weight': '100\n' });
    applyV2Limits(dir, norm({ memory: '64m', memorySwap: '64m', pids: 32, cpus: 0.25, cpuWeight: 50 }));
    expect(read(dir, 'memory.max')).toBe(String(64 * MiB));
    expect(read(dir, 'pids.max')).toBe('32');
    expect(read(dir, 'cpu.max')).toBe('25000 100000');
    expect(read(dir, 'cpu.weight')).toBe('50');
    expect(fs.existsSync(path.join(dir, 'memory.swap.max'))).toBe(false);

    // With swap accounting, it is written.
    write(dir, { 'memory.swap.max': 'max\n' });
    applyV2Limits(dir, norm({ memory: '64m', memorySwap: '80m' }));
    expect(read(dir, 'memory.swap.max')).toBe(String(16 * MiB));
  });

  test('applyV2Limits: a failed write names the file and value and keeps the errno', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'pids.max')); // writing to a directory fails with EISDIR
    let error: NodeJS.ErrnoException | undefined;
    try {
      applyV2Limits(dir, norm({ pids: 7 }));
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    expect(error?.message).toContain(path.join(dir, 'pids.max'));
    expect(error?.message).toContain('"7"');
    expect(error?.code).toBe('EISDIR');
  });

  test('readV2Stats parses the kernel files', () => {
    const dir = tempDir();
    write(dir, {
      'memory.current': '10485760\n',
      'memory.peak': '20971520\n',
      'memory.max': '33554432\n',
      'memory.swap.current': '4096\n',
      'memory.events': 'low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n',
      'cpu.stat':
        'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\ncore_sched.force_idle_usec 0\n' +
        'nr_periods 40\nnr_throttled 25\nthrottled_usec 750000\nnr_bursts 0\nburst_usec 0\n',
      'pids.current': '7\n',
      'pids.max': '64\n',
      'io.stat':
        '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n' +
        '253:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n',
    });
    expect(readV2Stats(dir)).toEqual({
      memory: { current: 10 * MiB, peak: 20 * MiB, limit: 32 * MiB, swapCurrent: 4096, oomKills: 2 },
      cpu: { usageNs: 1.5e9, userNs: 1e9, systemNs: 0.5e9, throttledNs: 0.75e9, throttledPeriods: 25 },
      pids: { current: 7, limit: 64 },
      io: { readBytes: 4196, writeBytes: 8392, readOps: 4, writeOps: 6 },
    });
    // The usage report's figures: the same as stats() gives, from three files.
    expect(readV2Usage(dir)).toEqual({ userNs: 1e9, systemNs: 0.5e9, peakBytes: 20 * MiB, oomKills: 2 });
    fs.unlinkSync(path.join(dir, 'memory.peak'));
    expect(readV2Usage(dir).peakBytes).toBe(10 * MiB);
  });

  test('readV2Stats: "max" limits are null; missing files read as zero; no memory.peak falls back to current', () => {
    const dir = tempDir();
    write(dir, { 'memory.current': '4096\n', 'memory.max': 'max\n', 'pids.max': 'max\n' });
    const s = readV2Stats(dir);
    expect(s.memory).toEqual({ current: 4096, peak: 4096, limit: null, swapCurrent: null, oomKills: 0 });
    expect(s.pids).toEqual({ current: 0, limit: null });
    expect(s.cpu).toEqual(emptyStats().cpu);
    expect(s.io).toEqual(emptyStats().io);
  });
});

describe('cgroup v1 driver', () => {
  test('v1LimitWrites: every limit to its controller and file; weights mapped', () => {
    const r: NormalizedResources = {
      memoryBytes: 64 * MiB,
      memorySwapBytes: 96 * MiB,
      cpuQuotaUs: 50000,
      cpuWeight: 10000,
      cpuset: '1',
      cpusetMems: '0',
      pids: 32,
      ioWeight: 1,
      ioThrottles: [
        { major: 8, minor: 0, kind: 'rbps', value: 1000 },
        { major: 8, minor: 0, kind: 'wbps', value: 2000 },
        { major: 8, minor: 16, kind: 'riops', value: 30 },
        { major: 8, minor: 16, kind: 'wiops', value: 40 },
      ],
    };
    expect(v1LimitWrites(r)).toEqual([
      ['cpuset', 'cpuset.cpus', '1'],
      ['cpuset', 'cpuset.mems', '0'],
      ['memory', 'memory.limit_in_bytes', String(64 * MiB)],
      // v1 memsw is memory+swap, as Docker's figure.
      ['memory', 'memory.memsw.limit_in_bytes', String(96 * MiB)],
      ['cpu', 'cpu.cfs_period_us', '100000'],
      ['cpu', 'cpu.cfs_quota_us', '50000'],
      ['cpu', 'cpu.shares', '262144'],
      ['pids', 'pids.max', '32'],
      ['blkio', 'blkio.weight', '10'],
      ['blkio', 'blkio.throttle.read_bps_device', '8:0 1000'],
      ['blkio', 'blkio.throttle.write_bps_device', '8:0 2000'],
      ['blkio', 'blkio.throttle.read_iops_device', '8:16 30'],
      ['blkio', 'blkio.throttle.write_iops_device', '8:16 40'],
    ]);
  });

  function v1Tree(controllers: string[]): Map<string, string> {
    const root = tempDir();
    const dirs = new Map<string, string>();
    for (const c of controllers) {
      const d = path.join(root, c);
      fs.mkdirSync(d);
      dirs.set(c, d);
    }
    // cpu and cpuacct share a hierarchy on most v1 hosts.
    if (dirs.has('cpu') && !dirs.has('cpuacct')) dirs.set('cpuacct', dirs.get('cpu') as string);
    return dirs;
  }

  test('applyV1Limits writes each controller\'s files; memsw skipped without swap accounting', () => {
    const dirs = v1Tree(['memory', 'cpu', 'pids', 'cpuset']);
    applyV1Limits(dirs, norm({ memory: '32m', memorySwap: '32m', cpus: 2, cpuWeight: 1, pids: 9, cpuset: '0' }));
    expect(read(dirs.get('memory')!, 'memory.limit_in_bytes')).toBe(String(32 * MiB));
    expect(fs.existsSync(path.join(dirs.get('memory')!, 'memory.memsw.limit_in_bytes'))).toBe(false);
    expect(read(dirs.get('cpu')!, 'cpu.cfs_period_us')).toBe('100000');
    expect(read(dirs.get('cpu')!, 'cpu.cfs_quota_us')).toBe('200000');
    expect(read(dirs.get('cpu')!, 'cpu.shares')).toBe('2');
    expect(read(dirs.get('pids')!, 'pids.max')).toBe('9');
    expect(read(dirs.get('cpuset')!, 'cpuset.cpus')).toBe('0');
  });

  test('applyV1Limits writes memsw where the kernel has it', () => {
    const dirs = v1Tree(['memory']);
    write(dirs.get('memory')!, { 'memory.memsw.limit_in_bytes': '9223372036854771712\n' });
    applyV1Limits(dirs, norm({ memory: '32m', memorySwap: '48m' }));
    expect(read(dirs.get('memory')!, 'memory.limit_in_bytes')).toBe(String(32 * MiB));
    expect(read(dirs.get('memory')!, 'memory.memsw.limit_in_bytes')).toBe(String(48 * MiB));
  });

  test('applyV1Limits: a limit whose controller is not mounted is a clear error', () => {
    const dirs = v1Tree(['memory']);
    expect(() => applyV1Limits(dirs, norm({ pids: 5 }))).toThrow(/pids controller is not mounted.*pids\.max/);
  });

  test('readV1Stats parses the kernel files (cpuacct.stat in USER_HZ ticks)', () => {
    const dirs = v1Tree(['memory', 'cpu', 'pids', 'blkio']);
    write(dirs.get('memory')!, {
      'memory.usage_in_bytes': '10485760\n',
      'memory.max_usage_in_bytes': '16777216\n',
      'memory.limit_in_bytes': '33554432\n',
      'memory.memsw.usage_in_bytes': '10489856\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n',
    });
    write(dirs.get('cpu')!, {
      'cpuacct.usage': '2500000000\n',
      'cpuacct.stat': 'user 150\nsystem 50\n',
      'cpu.stat': 'nr_periods 30\nnr_throttled 12\nthrottled_time 600000000\nnr_bursts 0\nburst_time 0\n',
    });
    write(dirs.get('pids')!, { 'pids.current': '5\n', 'pids.max': '64\n' });
    write(dirs.get('blkio')!, {
      'blkio.throttle.io_service_bytes':
        '254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 0\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 12288\n' +
        '8:0 Read 100\n8:0 Write 200\nTotal 12588\n',
      'blkio.throttle.io_serviced': '254:0 Read 1\n254:0 Write 2\n254:0 Total 3\nTotal 3\n',
    });
    expect(readV1Stats(dirs)).toEqual({
      memory: { current: 10 * MiB, peak: 16 * MiB, limit: 32 * MiB, swapCurrent: 4096, oomKills: 3 },
      cpu: { usageNs: 2.5e9, userNs: 1.5e9, systemNs: 0.5e9, throttledNs: 6e8, throttledPeriods: 12 },
      pids: { current: 5, limit: 64 },
      io: { readBytes: 4196, writeBytes: 8392, readOps: 1, writeOps: 2 },
    });
    // The usage report's figures: the same as stats() gives, from three files.
    expect(readV1Usage(dirs)).toEqual({ userNs: 1.5e9, systemNs: 0.5e9, peakBytes: 16 * MiB, oomKills: 3 });
    expect(readV1Usage(v1Tree(['pids']))).toEqual({ userNs: 0, systemNs: 0, peakBytes: 0, oomKills: 0 });
  });

  test('readV1Stats: v1\'s "no limit" numbers and "max" read as null; no memsw: swapCurrent null', () => {
    const dirs = v1Tree(['memory', 'pids']);
    write(dirs.get('memory')!, { 'memory.usage_in_bytes': '4096\n', 'memory.limit_in_bytes': '9223372036854771712\n' });
    write(dirs.get('pids')!, { 'pids.current': '1\n', 'pids.max': 'max\n' });
    const s = readV1Stats(dirs);
    expect(s.memory.limit).toBeNull();
    expect(s.memory.swapCurrent).toBeNull();
    expect(s.pids).toEqual({ current: 1, limit: null });
    // No cpu hierarchy: zeros, not an exception.
    expect(s.cpu).toEqual(emptyStats().cpu);
  });
});

describe('stats parsing helpers', () => {
  test('parseLimit', () => {
    expect(parseLimit('max\n')).toBeNull();
    expect(parseLimit('')).toBeNull();
    expect(parseLimit('-1')).toBeNull();
    expect(parseLimit('9223372036854771712')).toBeNull();
    expect(parseLimit('67108864\n')).toBe(64 * MiB);
    expect(parseLimit('0')).toBe(0);
  });

  test('parseFlatKeyed keeps integer values only', () => {
    const m = parseFlatKeyed('a 1\n b  2 \nc x\nd\n\ne -3\n');
    expect([...m.entries()]).toEqual([
      ['a', 1],
      ['b', 2],
      ['e', -3],
    ]);
  });
});
