/**
 * Escape class: writes to /proc/sys, /proc/sysrq-trigger, /sys/firmware and
 * /sys/kernel; reading /proc/kcore or /proc/keys.
 *
 * Each write puts back the value the host has now (read by the test on the
 * host first), so that even a write that wrongly succeeded changes nothing; the
 * shell reports whether the write itself succeeded, and the host's value is
 * compared after. Reads of masked files give nothing.
 */
import * as fs from 'node:fs';
import type { ContainerOptions } from '../../lib';
import { cleanup, make, sharedRootfs, sh } from './support';

afterEach(cleanup);

const base: ContainerOptions = { rootfs: sharedRootfs, readonly: true };

function hostValue(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The value to write back for a file whose content is a list with the current choice in [brackets]. */
function bracketChoice(text: string): string {
  return /\[([^\]]+)\]/.exec(text)?.[1] ?? text.trim();
}

interface WriteTarget {
  file: string;
  /** What to write: the host's current value, so a wrong success is harmless. */
  value: () => string | undefined;
}

const targets: WriteTarget[] = [
  { file: '/proc/sys/kernel/core_pattern', value: () => hostValue('/proc/sys/kernel/core_pattern')?.trim() },
  { file: '/proc/sys/kernel/sysrq', value: () => hostValue('/proc/sys/kernel/sysrq')?.trim() },
  { file: '/proc/sys/kernel/modprobe', value: () => hostValue('/proc/sys/kernel/modprobe')?.trim() },
  { file: '/proc/sys/kernel/hotplug', value: () => hostValue('/proc/sys/kernel/hotplug')?.trim() },
  { file: '/proc/sys/kernel/panic', value: () => hostValue('/proc/sys/kernel/panic')?.trim() },
  { file: '/proc/sys/vm/overcommit_memory', value: () => hostValue('/proc/sys/vm/overcommit_memory')?.trim() },
  // Write-only: 1 drops clean page cache, harmless if it ever got through.
  { file: '/proc/sys/vm/drop_caches', value: () => '1' },
  { file: '/proc/sys/fs/binfmt_misc/status', value: () => hostValue('/proc/sys/fs/binfmt_misc/status')?.trim() === 'enabled' ? '1' : undefined },
  // An unknown sysrq key only prints the help text to the kernel log.
  { file: '/proc/sysrq-trigger', value: () => ' ' },
  { file: '/sys/kernel/uevent_helper', value: () => hostValue('/sys/kernel/uevent_helper')?.trim() },
  { file: '/sys/kernel/profiling', value: () => hostValue('/sys/kernel/profiling')?.trim() },
  { file: '/sys/kernel/rcu_expedited', value: () => hostValue('/sys/kernel/rcu_expedited')?.trim() },
  { file: '/sys/kernel/mm/transparent_hugepage/enabled', value: () => bracketChoice(hostValue('/sys/kernel/mm/transparent_hugepage/enabled') ?? '') },
  { file: '/sys/kernel/mm/ksm/run', value: () => hostValue('/sys/kernel/mm/ksm/run')?.trim() },
  { file: '/sys/power/state', value: () => undefined },
];

/** One shell line per target: "<file> absent|denied|WROTE". */
function writeScript(list: WriteTarget[]): { script: string; tried: string[] } {
  const lines: string[] = [];
  const tried: string[] = [];
  for (const t of list) {
    const v = t.value();
    if (v === undefined) continue;
    tried.push(t.file);
    const quoted = `'${v.replace(/'/g, `'\\''`)}'`;
    lines.push(`if [ -e ${t.file} ]; then if (printf '%s\\n' ${quoted} > ${t.file}) 2>/dev/null; then echo "${t.file} WROTE"; else echo "${t.file} denied"; fi; else echo "${t.file} absent"; fi`);
  }
  return { script: lines.join('\n'), tried };
}

function snapshot(files: string[]): Record<string, string | undefined> {
  return Object.fromEntries(files.map((f) => [f, hostValue(f)]));
}

describe('writes to /proc/sys, /proc/sysrq-trigger and /sys/kernel fail', () => {
  test.each([
    ['root, default capabilities', {}],
    ['root with CAP_SYS_ADMIN and CAP_NET_ADMIN added', { capabilities: { add: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] as const } }],
    ['user namespace root', { userns: true }],
  ])('%s', async (_name, opts: ContainerOptions) => {
    const { script, tried } = writeScript(targets);
    const readable = tried.filter((f) => f !== '/proc/sys/vm/drop_caches' && f !== '/proc/sysrq-trigger');
    const before = snapshot(readable);
    const r = await sh({ ...base, ...opts }, script);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(tried.length);
    expect(lines.filter((l) => l.endsWith(' WROTE'))).toEqual([]);
    // Most of them are there to try (the kernel here has no sysrq, for instance).
    expect(lines.filter((l) => l.endsWith(' denied')).length).toBeGreaterThanOrEqual(5);
    expect(snapshot(readable)).toEqual(before);
  });

  test('/proc/sys, /proc/sysrq-trigger, /proc/bus, /proc/fs, /proc/irq are read-only mounts; a remount rw is refused', async () => {
    const r = await sh(
      { ...base, capabilities: { add: ['CAP_SYS_ADMIN'] } },
      'for p in /proc/sys /proc/bus /proc/fs /proc/irq; do [ -e $p ] && grep -E " $p " /proc/self/mountinfo | head -1 | cut -d" " -f5,6; done; mount -o remount,rw /proc/sys 2>/dev/null && echo REMOUNTED; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo WROTE; true',
    );
    const lines = r.stdout.trim().split('\n');
    for (const l of lines.filter((x) => x.startsWith('/proc/'))) expect(l).toMatch(/ ro(,|$)/);
    expect(lines).toContain('/proc/sys ro,nosuid,nodev,noexec,relatime');
    // With CAP_SYS_ADMIN, a remount is the user's grant; without seccomp's mount filter it may work.
    // The default container (no SYS_ADMIN) is what must hold:
    const d = await sh(base, 'mount -o remount,rw /proc/sys 2>/dev/null && echo REMOUNTED; umount /proc/sys 2>/dev/null && echo UNMOUNTED; true');
    expect(d.stdout).toBe('');
  });

  test('cgroup release_agent and notify_on_release cannot be written (CVE-2022-0492)', async () => {
    const r = await sh(
      { ...base, userns: false },
      'for f in $(find /sys/fs/cgroup -maxdepth 2 -name release_agent -o -maxdepth 2 -name notify_on_release 2>/dev/null); do v=$(cat $f); if (printf "%s\\n" "$v" > $f) 2>/dev/null; then echo "$f WROTE"; else echo "$f denied"; fi; done; true',
    );
    expect(r.stdout).not.toContain('WROTE');
  });
});

describe('/sys/firmware is masked and /sys is read-only', () => {
  test('/sys/firmware is an empty read-only directory (the host has entries there)', async () => {
    expect(fs.readdirSync('/sys/firmware').length).toBeGreaterThan(0);
    const r = await sh(base, 'ls -A /sys/firmware | wc -l; mkdir /sys/firmware/x 2>/dev/null && echo MADE; touch /sys/firmware/x 2>/dev/null && echo TOUCHED; find /sys/firmware | wc -l');
    expect(r.stdout).toBe('0\n1\n');
  });

  test('sysfs is mounted read-only, and a write under /sys/class or /sys/module fails', async () => {
    const r = await sh(
      base,
      'grep " /sys " /proc/self/mountinfo | cut -d" " -f6; for f in /sys/module/*/parameters/* /sys/class/net/lo/mtu /sys/kernel/mm/ksm/run; do [ -f "$f" ] || continue; (cat "$f" > "$f") 2>/dev/null && echo "$f WROTE"; done; true',
    );
    expect(r.stdout.split('\n')[0]).toMatch(/^ro,/);
    expect(r.stdout).not.toContain('WROTE');
  });
});

describe('reading /proc/kcore, /proc/keys and the other masked /proc files gives nothing', () => {
  test.each([
    ['root', {}],
    ['root with CAP_SYS_ADMIN, SYS_RAWIO and SYSLOG added', { capabilities: { add: ['CAP_SYS_ADMIN', 'CAP_SYS_RAWIO', 'CAP_SYSLOG'] as const } }],
  ])('%s', async (_name, opts: ContainerOptions) => {
    // The control: the host's /proc/keys and /proc/timer_list have content.
    expect(hostValue('/proc/keys')?.length ?? 1).toBeGreaterThan(0);
    const files = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/interrupts', '/proc/sched_debug', '/proc/latency_stats', '/proc/timer_stats'];
    const r = await sh(
      { ...base, ...opts },
      files.map((f) => `if [ -e ${f} ]; then echo "${f} $(head -c 4096 ${f} 2>/dev/null | wc -c)"; else echo "${f} absent"; fi`).join('\n') +
        '\nfor d in /proc/acpi /proc/scsi /proc/asound; do [ -d $d ] && echo "$d $(ls -A $d | wc -l)"; done; true',
    );
    expect(r.exitCode).toBe(0);
    for (const line of r.stdout.trim().split('\n')) expect(line).toMatch(/ (0|absent)$/);
    expect(r.stdout).toMatch(/^\/proc\/keys 0$/m);
  });
});
