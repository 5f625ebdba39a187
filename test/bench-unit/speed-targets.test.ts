/**
 * The bench's checks of issue 14's targets (bench/speed-targets.ts), its reading of the host's
 * conditions (bench/host-conditions.ts) and its before/after table of phases
 * (bench/phases-compare.ts), on made-up rows: no container runs here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { speedTargets, formatSpeedTargets, type RowLike, type TotalLike } from '../../bench/speed-targets';
import { ext4HasJournal, filesystemOf, formatConditions, probeNewFileUs, probeProcessCosts } from '../../bench/host-conditions';
import { comparePhases } from '../../bench/phases-compare';
import type { PhasesResult } from '../../bench/phases';

const row = (name: string, medianMs: number, p95Ms: number): RowLike => ({ name, status: 'ok', medianMs, p95Ms });
const rows = (spawn: [number, number], destroyMs: number, pool?: RowLike): RowLike[] => [
  row('child_process.spawn', 1, 2),
  row('Container.spawn', ...spawn),
  row('Container destroy() (exited)', destroyMs, destroyMs * 2),
  pool ?? { name: 'Container.pool spawn (warm)', status: 'unavailable', reason: 'Container.pool not built' },
];
const total = (count: number, totalMs: number): TotalLike[] => [{ runtime: 'container', count, status: 'ok', totalMs }];

describe('speed targets', () => {
  it('meets each target at its limit and misses it just above', () => {
    const met = speedTargets(rows([2, 6], 0.5, row('Container.pool spawn (warm)', 1.2, 2)), total(100, 600));
    expect(met.map((t) => t.met)).toEqual([true, true, true, true, true]);
    const missed = speedTargets(rows([2.01, 6.1], 0.51, row('Container.pool spawn (warm)', 1.21, 2)), total(100, 601));
    expect(missed.map((t) => t.met)).toEqual([false, false, false, false, false]);
    expect(missed[0].measured).toBe('2.01x: 2.01 vs 1.00 ms');
    expect(missed[1].measured).toBe('3.05x: 6.10 vs 2.00 ms');
  });

  it('scales the sequential target to the count run', () => {
    const [t] = speedTargets(rows([1, 1], 0.1), total(10, 61)).filter((x) => x.target.includes('sequential'));
    expect(t.target).toBe('10 sequential Container spawn+wait+destroy <= 0.06 s (0.6 s per 100)');
    expect(t.met).toBe(false);
  });

  it("puts the sequential total beside child_process.spawn's own of the same count", () => {
    const totals: TotalLike[] = [...total(100, 1500), { runtime: 'child_process', count: 100, status: 'ok', totalMs: 970 }];
    const [t] = speedTargets(rows([1, 1], 0.1), totals).filter((x) => x.target.includes('sequential'));
    expect(t).toMatchObject({ met: false, measured: '1.50 s; 100 child_process.spawn: 0.97 s, 1.55x' });
    // Another count is not comparable: left out.
    const other = [...total(100, 1500), { runtime: 'child_process', count: 10, status: 'ok', totalMs: 97 }];
    expect(speedTargets(rows([1, 1], 0.1), other).find((x) => x.target.includes('sequential'))?.measured).toBe('1.50 s');
  });

  it("sets the ratios beside the same call's from a small Node process, when it ran", () => {
    const withSmall = [...rows([2.4, 3.6], 0.1), row('child_process.spawn (small Node)', 0.8, 1.2)];
    const [median, p95] = speedTargets(withSmall, []);
    // The target stays the one against the bench process's own child_process.spawn.
    expect(median).toMatchObject({ met: false, measured: "2.40x: 2.40 vs 1.00 ms; 3.00x child_process.spawn (small Node)'s 0.80 ms" });
    expect(p95).toMatchObject({ met: true, measured: "1.80x: 3.60 vs 2.00 ms; 3.00x child_process.spawn (small Node)'s 1.20 ms" });
    const totals: TotalLike[] = [
      ...total(100, 1500),
      { runtime: 'child_process', count: 100, status: 'ok', totalMs: 1000 },
      { runtime: 'child_process-small', count: 100, status: 'ok', totalMs: 500 },
    ];
    const [t] = speedTargets(withSmall, totals).filter((x) => x.target.includes('sequential'));
    expect(t.measured).toBe('1.50 s; 100 child_process.spawn: 1.00 s, 1.50x; 100 child_process.spawn (small Node): 0.50 s, 3.00x');
  });

  it('says why a target was not measured: no pool, no baseline, no totals', () => {
    const targets = speedTargets(rows([1, 1], 0.1), []);
    expect(targets.find((t) => t.target.startsWith('Container.pool spawn'))).toMatchObject({ met: null, why: 'unavailable: Container.pool not built' });
    expect(targets.find((t) => t.target.includes('sequential'))?.met).toBeNull();
    const noBaseline = speedTargets(rows([1, 1], 0.1).slice(1), []);
    expect(noBaseline[0]).toMatchObject({ met: null, why: 'child_process.spawn not run' });
    const text = formatSpeedTargets(targets, 'on a 2-core host');
    expect(text).toMatch(/^Targets of issue 14, on a 2-core host:\n/);
    expect(text).toContain('Container.pool spawn (warm) median <= 1.2x child_process.spawn\'s: not measured (unavailable: Container.pool not built)');
  });
});

describe('host conditions', () => {
  it('names the filesystem of the mount a path is on, for a path not made yet too', () => {
    expect(filesystemOf('/proc/self')).toBe('proc');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-unit-'));
    try {
      const type = filesystemOf(dir);
      expect(type).toMatch(/^\w+$/);
      expect(filesystemOf(path.join(dir, 'not', 'made'))).toBe(type);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(formatConditions({ cpus: 2, loadAverage: 1.25, stateRoot: '/run/ts-container', stateRootFs: 'ext4' }))
      .toBe('on a 2-core host (load average 1.3 at the start) with the state root /run/ts-container on ext4');
    expect(formatConditions({
      cpus: 2, loadAverage: 1.25, stateRoot: '/run/ts-container', stateRootFs: 'ext4',
      newFileUs: { stateRoot: 106.4, dataRoot: null, dataRootPath: '/var/lib/ts-container/containers' },
    })).toBe('on a 2-core host (load average 1.3 at the start) with the state root /run/ts-container on ext4 ' +
      '(a new file: 106 µs there, not measured under /var/lib/ts-container/containers)');
  });

  it('says when an ext4 root has no journal, and names the data root\'s filesystem where it differs', () => {
    const base = { cpus: 2, loadAverage: 1, stateRoot: '/run/ts-container', stateRootFs: 'ext4' };
    const newFileUs = { stateRoot: 30, dataRoot: 12, dataRootPath: '/var/lib/ts-container/containers' };
    expect(formatConditions({ ...base, stateRootJournal: false, dataRootFs: 'ext4', dataRootJournal: false, newFileUs }))
      .toBe('on a 2-core host (load average 1.0 at the start) with the state root /run/ts-container on ext4 without a journal ' +
        '(a new file: 30 µs there, 12 µs under /var/lib/ts-container/containers)');
    expect(formatConditions({ ...base, stateRootJournal: true, dataRootFs: 'tmpfs', dataRootJournal: null, newFileUs }))
      .toBe('on a 2-core host (load average 1.0 at the start) with the state root /run/ts-container on ext4 ' +
        '(a new file: 30 µs there, 12 µs under /var/lib/ts-container/containers on tmpfs)');
    expect(formatConditions({ ...base, stateRootFs: null, dataRootFs: 'xfs', newFileUs })).toContain('on an unknown filesystem (a new file: 30 µs there, 12 µs under /var/lib/ts-container/containers on xfs)');
    // The data root's homes, where it has them.
    expect(formatConditions({ ...base, stateRootJournal: false, dataRootFs: 'ext4', dataRootJournal: false, newFileUs: { ...newFileUs, homes: 3.14 } }))
      .toContain('(a new file: 30 µs there, 12 µs under /var/lib/ts-container/containers, 3.1 µs in its homes)');
  });

  it("reads an ext4 filesystem's journal as the kernel's jbd2 list has it; nothing for other filesystems", () => {
    expect(ext4HasJournal('/proc/self')).toBeNull();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-unit-'));
    try {
      if (filesystemOf(dir) !== 'ext4') {
        expect(ext4HasJournal(dir)).toBeNull();
        return;
      }
      // The device from the directory's own st_dev, not from mountinfo: jbd2 lists a journal as <device>-8.
      const dev = fs.statSync(dir).dev;
      const device = `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00)}`;
      const name = path.basename(fs.realpathSync(`/sys/dev/block/${device}`));
      expect(ext4HasJournal(dir)).toBe(fs.existsSync(`/proc/fs/jbd2/${name}-8`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("states the host's system call, process and page costs, or that they were not measured", () => {
    const base = { cpus: 2, loadAverage: 1, stateRoot: '/run/ts-container', stateRootFs: 'tmpfs' };
    expect(formatConditions({ ...base, processCosts: { syscallUs: 1.087, forkUs: 695.3, newPageUs: 14.2 } }))
      .toBe('on a 2-core host (load average 1.0 at the start) with the state root /run/ts-container on tmpfs, ' +
        'where a system call takes 1.1 µs, a fork+exit+wait 0.70 ms and a new page 14 µs');
    expect(formatConditions({ ...base, processCosts: null })).toMatch(/tmpfs \(system call, process and page costs not measured\)$/);
  });

  it('measures a system call, a process and a new page on this host, and leaves no build behind', () => {
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('tsc-bench-costs-'));
    const costs = probeProcessCosts();
    expect(costs).not.toBeNull();
    const { syscallUs, forkUs, newPageUs } = costs!;
    // A process costs more than a system call, whatever the host.
    expect(syscallUs).toBeGreaterThan(0);
    expect(forkUs).toBeGreaterThan(syscallUs);
    expect(newPageUs).toBeGreaterThan(0);
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('tsc-bench-costs-'))).toEqual(before);
  });

  it('measures a new file under a root, and leaves nothing there', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-unit-'));
    try {
      const us = probeNewFileUs(path.join(root, 'state'));
      expect(us).toBeGreaterThan(0);
      expect(fs.readdirSync(path.join(root, 'state'))).toEqual([]);
      // A root that cannot be made (its parent is a file) is not measured.
      fs.writeFileSync(path.join(root, 'file'), '');
      expect(probeNewFileUs(path.join(root, 'file', 'state'))).toBeNull();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('phases before and after', () => {
  const result = (phases: [string, number][]): PhasesResult => ({
    iterations: 30, warmup: 5, cpus: 2,
    rows: phases.map(([phase, medianMs]) => ({ phase, n: 30, medianMs, p95Ms: medianMs * 2 })),
    spawn: { medianMs: 10, p95Ms: 20 }, destroy: { medianMs: 5, p95Ms: 9 },
  });

  it('keeps the order phases happen in, with a phase only one run has in its place', () => {
    const before = result([['options normalized', 0.5], ['state directory made', 1.5], ['helper report', 4]]);
    const after = result([['options normalized', 0.4], ['helper report', 2], ['helper reused', 0.1]]);
    const lines = comparePhases(before, after).split('\n');
    expect(lines.slice(2, 6).map((l) => l.split(' | ')[0].replace('| ', ''))).toEqual(['options normalized', 'state directory made', 'helper report', 'helper reused']);
    expect(lines[3]).toBe('| state directory made | 1.500 | 3.000 | - | - | - |');
    expect(lines[4]).toBe('| helper report | 4.000 | 8.000 | 2.000 | 4.000 | -2.000 |');
    // Neither run has the helper's own steps: no row for them.
    expect(lines.some((l) => l.startsWith('| helper: '))).toBe(false);
  });

  it("puts the helper's own steps after the phases, as 'helper:' rows", () => {
    const before = { ...result([['helper report', 4]]), helperRows: [{ phase: 'plan received', n: 30, medianMs: 0.3, p95Ms: 0.9 }] };
    const after = {
      ...result([['helper report', 3]]),
      helperRows: [
        { phase: 'plan received', n: 30, medianMs: 0.1, p95Ms: 0.2 },
        { phase: 'exec seen', n: 30, medianMs: 0.2, p95Ms: 0.4 },
      ],
    };
    const lines = comparePhases(before, after).split('\n');
    const helper = lines.filter((l) => l.startsWith('| helper: '));
    expect(helper).toEqual(['| helper: plan received | 0.300 | 0.900 | 0.100 | 0.200 | -0.200 |', '| helper: exec seen | - | - | 0.200 | 0.400 | - |']);
    expect(lines.indexOf(helper[0])).toBeGreaterThan(lines.findIndex((l) => l.startsWith('| helper report |')));
  });
});
