/**
 * The device cgroup: which device nodes a container's processes may open, as defence in
 * depth behind the nodev mounts (container root keeps CAP_MKNOD, as in Docker, and a node it
 * makes on a mount without nodev, e.g. one it mounts itself with CAP_SYS_ADMIN, would reach
 * the host's disks). The rules are the ones Docker and runc apply by default: any node may
 * be made (mknod), and only the standard character devices, the terminal ones and tun may be
 * opened.
 *
 * cgroup v1: the rules are written to the container's cgroup in the `devices` hierarchy.
 * cgroup v2 has no devices controller: the helper attaches a BPF_CGROUP_DEVICE program,
 * compiled from the same rules, to the container's cgroup (native/helper/device_cgroup.cc).
 */
import type { Hierarchies } from './hierarchy';
import type { PlanEntry } from '../protocol/generated/plan';

/** A rule in the kernel's v1 syntax: type (c, b, a), major:minor (* for any), access (r, w, m). */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  'c *:* m', // mknod of any node: opening it is what the rules below decide
  'b *:* m',
  'c 1:3 rwm', // /dev/null
  'c 1:5 rwm', // /dev/zero
  'c 1:7 rwm', // /dev/full
  'c 1:8 rwm', // /dev/random
  'c 1:9 rwm', // /dev/urandom
  'c 5:0 rwm', // /dev/tty
  'c 5:2 rwm', // /dev/ptmx
  'c 136:* rwm', // /dev/pts/*
  'c 10:200 rwm', // /dev/net/tun
];

/**
 * A test hook: set to 1, the rules go in the BPF program even where the v1 devices controller
 * exists, so that the program is exercised on a hybrid host (this project's CI), whose cgroup2
 * mount takes device programs although it has no controllers.
 */
const TEST_DEVICE_PROGRAM = 'TS_CONTAINER_TEST_DEVICE_PROGRAM';

/**
 * The rules a v1 `devices` cgroup allows after denying every device (when it is made, new and
 * empty: "a" can be denied only before it has children; native/addon/cgroup_maker.h); null
 * when the BPF program takes them (the test hook).
 */
export function v1DeviceRules(): readonly string[] | null {
  return process.env[TEST_DEVICE_PROGRAM] === '1' ? null : DEFAULT_DEVICE_RULES;
}

/**
 * The plan entries that have the helper attach the rules as a BPF device program: only on a
 * host whose cgroup v2 is the only place for them (no v1 `devices` hierarchy; on a hybrid
 * host the v1 rules already apply).
 */
export function deviceProgramEntries(cgroup2Path: string | undefined, hierarchies: Hierarchies): PlanEntry[] {
  if (!cgroup2Path) return [];
  const onV1 = hierarchies.v1.some((h) => h.controllers.includes('devices'));
  if (onV1 && process.env[TEST_DEVICE_PROGRAM] !== '1') return [];
  return DEFAULT_DEVICE_RULES.map((rule) => ['cgroup.device_allow', rule]);
}
