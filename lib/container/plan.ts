/**
 * The plan the helper executes: entries of the keys declared in protocol/plan-fields.ts,
 * serialized by the generated serializePlan (native/common/plan.cc reads them). Repeated keys
 * make lists; "mount=<type>" starts a mount whose "mount.*" keys follow.
 */
import type { ContainerConfig, NormalizedProcessOptions } from '../options/validate';
import { MASKED_PATHS, READONLY_PATHS } from '../options/defaults';
import type { CgroupPlan } from '../cgroups/container-cgroup';
import type { PreparedSeccomp } from './seccomp-setup';
import type { ContainerDirectory } from '../state/container-directory';
import { helperPauseEntries } from '../state/test-hook';
import { phaseTrace } from '../process/phase-trace';
import { deviceProgramEntries } from '../cgroups/device-rules';
import { hostHierarchies } from '../cgroups/hierarchy';
import { rootfsEntries } from './rootfs-overlay';
import { sharedNamespaceNames } from '../options/namespace-sharing';
import { networkMonitorEntries, networkMountEntries } from '../networks/plan-entries';
import { serializePlan, type PlanEntry, type PlanValues } from '../protocol/generated/plan';

/** The largest 64-bit value spells RLIM_INFINITY. */
const UNLIMITED = (1n << 64n) - 1n;

export type Entry = PlanEntry;

function namespacesOf(config: ContainerConfig): PlanValues['namespace'][] {
  // Those shared with another container (a pod's, or network: { container }) are joined instead.
  const shared: string[] = sharedNamespaceNames(config);
  const names = (['pid', 'mount', 'uts', 'ipc', 'cgroup'] as const).filter((name) => !shared.includes(name)) as PlanValues['namespace'][];
  if (config.network !== 'host' && !shared.includes('net')) names.push('net');
  if (config.userns) names.push('user');
  if (config.timens) names.push('time');
  return names;
}

/** The program, its environment, directory and user: what a pool member gets late as well. */
function programEntries(argv: string[], process: NormalizedProcessOptions): Entry[] {
  const entries: Entry[] = [];
  for (const arg of argv) entries.push(['arg', arg]);
  for (const [key, value] of Object.entries(process.env)) entries.push(['env', `${key}=${value}`]);
  entries.push(['cwd', process.cwd], ['uid', process.user.uid], ['gid', process.user.gid]);
  for (const group of process.user.groups) entries.push(['group', group]);
  if (process.user.spec !== undefined) entries.push(['user.spec', process.user.spec], ['user.home', process.user.setHome === true]);
  return entries;
}

function ttyEntries(process: NormalizedProcessOptions): Entry[] {
  if (!process.tty) return [];
  return [['tty', true], ['tty.columns', process.tty.columns], ['tty.rows', process.tty.rows]];
}

/**
 * The late spec of a pool member (native/helper/late_gate.h): what pool.spawn() gives the
 * process that waits at its late gate. Its terminal is the container's console, as a first process's.
 */
export function lateSpec(argv: string[], process: NormalizedProcessOptions): Buffer {
  const entries = [...programEntries(argv, process), ...ttyEntries(process)];
  if (process.tty) entries.push(['tty.console', true]);
  return serializePlan(entries);
}

function processEntries(argv: string[], process: NormalizedProcessOptions, config: ContainerConfig): Entry[] {
  const entries: Entry[] = programEntries(argv, process);
  for (const cap of config.capabilities) entries.push(['cap', cap]);
  for (const limit of config.rlimits) {
    const soft = limit.soft === 'unlimited' ? UNLIMITED : limit.soft;
    const hard = limit.hard === 'unlimited' ? UNLIMITED : limit.hard;
    entries.push(['rlimit', { name: limit.name, soft, hard }]);
  }
  entries.push(['nonewprivs', true]);
  for (const ns of namespacesOf(config)) entries.push(['namespace', ns]);
  entries.push(...ttyEntries(process));
  return entries;
}

function seccompEntries(seccomp: PreparedSeccomp | null): Entry[] {
  if (!seccomp) return [];
  const entries: Entry[] = [['seccomp', seccomp.hex]];
  if (seccomp.compiled.notifies) entries.push(['seccomp.notify', true]);
  return entries;
}

function cgroupEntries(cgroup: CgroupPlan | null, withMounts: boolean): Entry[] {
  if (!cgroup) return [];
  const entries: Entry[] = [];
  if (cgroup.cgroup2Path) entries.push(['cgroup2', cgroup.cgroup2Path]);
  for (const procs of cgroup.v1Procs) entries.push(['cgroup.procs', procs]);
  if (cgroup.pidsDir) entries.push(['cgroup.pids', cgroup.pidsDir]);
  if (withMounts) {
    for (const mount of cgroup.mounts) entries.push(['cgroup.mount', mount]);
    for (const link of cgroup.links) entries.push(['cgroup.link', link]);
  }
  return entries;
}

/**
 * How the first process is started and watched: whether it waits for start() at the
 * state directory's FIFO, and for a detached container what its monitor needs.
 */
export function lifecycleEntries(config: ContainerConfig, directory: ContainerDirectory, cgroupDirs: string[], waitForStart: boolean): Entry[] {
  const entries: Entry[] = [...helperPauseEntries()];
  if (waitForStart) entries.push(['start.fifo', directory.fifoPath]);
  const lifecycle = config.lifecycle;
  if (!lifecycle.detach) return entries;
  entries.push(['detach', true], ['state.dir', directory.dir], ['log.path', directory.logPath]);
  entries.push(['log.max_size', lifecycle.log.maxSize], ['log.max_files', lifecycle.log.maxFiles]);
  entries.push(['restart.policy', lifecycle.restart.policy], ['restart.max', lifecycle.restart.maxRetries]);
  for (const dir of cgroupDirs) entries.push(['cgroup.dir', dir]);
  entries.push(...networkMonitorEntries(config));
  return entries;
}

/** The plan for a container's first process. */
export function runPlan(
  argv: string[],
  process: NormalizedProcessOptions,
  config: ContainerConfig,
  cgroup: CgroupPlan | null,
  seccomp: PreparedSeccomp | null,
  lifecycle: Entry[] = [],
): Buffer {
  const entries: Entry[] = [
    ...lifecycle,
    ['mode', 'run'],
    ...processEntries(argv, process, config),
    ...cgroupEntries(cgroup, true),
    ...(config.privileged ? [] : deviceProgramEntries(cgroup?.cgroup2Path, hostHierarchies())),
    ...seccompEntries(seccomp),
  ];
  entries.push(['hostname', config.hostname]);
  entries.push(...rootfsEntries(config));
  if (config.userns === 'block') throw new Error('ts-container: internal: the container has no id block yet');
  if (config.userns) {
    for (const m of config.userns.uidMap) entries.push(['uidmap', { containerId: m.containerId, hostId: m.hostId, size: m.size }]);
    for (const m of config.userns.gidMap) entries.push(['gidmap', { containerId: m.containerId, hostId: m.hostId, size: m.size }]);
  }
  if (config.timens) {
    entries.push(['time.monotonic', config.timens.monotonicOffset], ['time.boottime', config.timens.boottimeOffset]);
  }
  for (const m of config.mounts) {
    entries.push(['mount', m.type], ['mount.target', m.target], ['mount.readonly', m.readonly]);
    if (m.type === 'bind') {
      entries.push(['mount.source', m.source], ['mount.recursive', m.recursive]);
    } else {
      if (m.sizeBytes !== undefined) entries.push(['mount.size', m.sizeBytes]);
      entries.push(['mount.mode', m.mode]);
    }
  }
  entries.push(...networkMountEntries(config));
  // The runtime's own tmpfs mounts get these sizes; a path left out gets the kernel's (half of RAM).
  for (const [target, bytes] of Object.entries(config.tmpfsSizes)) {
    if (bytes !== null) entries.push(['tmpfs.size', { target, bytes }]);
  }
  // Privileged, as docker's: nothing of /proc is masked or read-only, and /sys is writable.
  if (config.privileged) entries.push(['sys.writable', true]);
  else {
    for (const p of MASKED_PATHS) entries.push(['masked', p]);
    for (const p of READONLY_PATHS) entries.push(['readonly', p]);
  }
  entries.push(['init', config.init]);
  // The first process's terminal is the container's console too.
  if (process.tty) entries.push(['tty.console', true]);
  // The helper marks its own steps too (native/helper/phase_marks.h).
  if (phaseTrace) entries.push(['phase_trace', true]);
  return serializePlan(entries);
}

/** The plan for a process that joins a running container. */
export function execPlan(
  argv: string[],
  process: NormalizedProcessOptions,
  config: ContainerConfig,
  cgroup: CgroupPlan | null,
  seccomp: PreparedSeccomp | null,
  containerPid: number,
): Buffer {
  return serializePlan([
    ['mode', 'exec'],
    ['join.pid', containerPid],
    ...processEntries(argv, process, config),
    // The main process stands in the shared ones too: the exec'd process joins them with the rest.
    ...sharedNamespaceNames(config).map((name): Entry => ['namespace', name]),
    ...cgroupEntries(cgroup, false),
    ...seccompEntries(seccomp),
    ...helperPauseEntries(),
  ]);
}
