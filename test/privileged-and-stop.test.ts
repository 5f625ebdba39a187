/**
 * `privileged: true` as docker's --privileged (every capability, no seccomp filter, no masked
 * or read-only /proc paths, no device rules, /sys writable; the host's / keeps its user
 * namespace), and the container's own stop signal and timeout (`stopSignal`, `stopTimeout`,
 * docker's --stop-signal and --stop-timeout), each against a container without them.
 */
import * as fs from 'node:fs';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';

const { make, sh } = useContainers();
const base: ContainerOptions = { rootfs: ensureBusyboxRootfs(), readonly: true };

/** What the privileged option changes, as the container's own files show it. */
const PROBE = [
  "grep -E '^(CapEff|Seccomp):' /proc/self/status | tr -s '\\t' ' '",
  // The mount options of /sys, and whether /proc/kcore and /proc/sys have mounts of their own (masks).
  "awk '$5 == \"/sys\" { print \"sys \" substr($6, 1, 2) }' /proc/self/mountinfo",
  "awk '$5 ~ \"^/proc/\" { print \"mount \" $5 \" \" substr($6, 1, 2) }' /proc/self/mountinfo",
  'cat /sys/fs/cgroup/devices/devices.list 2>/dev/null | head -1 | sed "s/^/devices /"',
].join('; ');

/** Every capability this test process holds (a sandbox may lack some): all a privileged container gets. */
function capMask(): string {
  return /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
}

describe('privileged: true', () => {
  test('every capability, no seccomp, nothing of /proc masked, /sys writable, no device rules', async () => {
    const plain = await sh(base, PROBE);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toContain('Seccomp: 2');
    expect(plain.stdout).toContain('sys ro');
    expect(plain.stdout).toContain('mount /proc/keys');
    expect(plain.stdout).toContain('mount /proc/sys ro');
    expect(plain.stdout).not.toContain(`CapEff: ${capMask()}`);

    const privileged = await sh({ ...base, privileged: true }, PROBE);
    expect(privileged).toMatchObject({ exitCode: 0, stderr: '' });
    expect(privileged.stdout).toContain(`CapEff: ${capMask()}`);
    expect(privileged.stdout).toContain('Seccomp: 0');
    expect(privileged.stdout).toContain('sys rw');
    expect(privileged.stdout).not.toContain('mount /proc/');
    // The v1 devices list is the parent's (all), where this host has that hierarchy.
    if (plain.stdout.includes('devices ')) {
      expect(plain.stdout).not.toContain('devices a *:* rwm');
      expect(privileged.stdout).toContain('devices a *:* rwm');
    }
  });

  test('capabilities.drop still drops; a seccomp profile given still applies', async () => {
    const out = await sh({ ...base, privileged: true, capabilities: { drop: ['NET_RAW'] }, seccomp: 'default' }, "grep -E '^(CapEff|Seccomp):' /proc/self/status | tr -s '\\t' ' '");
    expect(out.stdout).toContain('Seccomp: 2');
    const capEff = BigInt(`0x${/CapEff: ([0-9a-f]+)/.exec(out.stdout)![1]}`);
    expect(capEff & (1n << 13n)).toBe(0n); // CAP_NET_RAW is 13
    expect(capEff & (1n << 21n)).not.toBe(0n); // CAP_SYS_ADMIN is 21
  });

  test("the host's / keeps its user namespace", async () => {
    const out = await sh({ privileged: true }, 'cat /proc/self/uid_map');
    expect(out.exitCode).toBe(0);
    expect(out.stdout.trim().split(/\s+/)).not.toEqual(['0', '0', '4294967295']);
  });

  test('not a boolean: an option error', () => {
    expect(() => make({ ...base, privileged: 'yes' as unknown as boolean })).toThrow(/^privileged: expected true or false/);
  });
});

describe('stopSignal and stopTimeout: how stop() ends this container', () => {
  /** Says which signal came, then takes 3 s to end on TERM (as a slow graceful shutdown). */
  const SCRIPT = "trap 'echo got-usr1; exit 0' USR1; trap 'echo got-term; sleep 3; exit 0' TERM; echo ready; while :; do sleep 0.1; done";

  async function stopped(options: ContainerOptions, stopOptions?: { timeout?: number }): Promise<{ stdout: string; exitCode: number | null; signal: string | null }> {
    const c = make({ ...base, ...options });
    const p = c.spawn(['sh', '-c', SCRIPT], { stdio: 'pipe' });
    await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
    const output = p.output();
    await c.stop(stopOptions);
    const { stdout, exitCode, signal } = await output;
    return { stdout, exitCode, signal };
  }

  test('stopSignal is the first signal stop() sends', async () => {
    expect(await stopped({ stopSignal: 'SIGUSR1' })).toEqual({ stdout: 'got-usr1\n', exitCode: 0, signal: null });
    expect(await stopped({ stopSignal: 10 })).toMatchObject({ stdout: 'got-usr1\n', exitCode: 0 });
  });

  test("stopTimeout cuts the grace period; stop()'s own timeout wins", async () => {
    expect(await stopped({})).toMatchObject({ stdout: 'got-term\n', exitCode: 0 });
    expect(await stopped({ stopTimeout: 1 })).toMatchObject({ stdout: 'got-term\n', exitCode: null, signal: 'SIGKILL' });
    expect(await stopped({ stopTimeout: 1 }, { timeout: 30 })).toMatchObject({ exitCode: 0 });
  });

  test('bad values are option errors', () => {
    expect(() => make({ ...base, stopSignal: 'SIGNOPE' as NodeJS.Signals })).toThrow(/^stopSignal: expected a signal name/);
    expect(() => make({ ...base, stopTimeout: -1 })).toThrow(/^stopTimeout: expected a number of seconds/);
  });
});
