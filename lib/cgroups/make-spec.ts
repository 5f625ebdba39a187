/**
 * What one native make of container cgroups is asked for (native/addon/cgroup_maker.h): the
 * directories, the mark, the v1 cpuset to fill, the v1 device list and the pids limit. Made
 * the same way for a container's cgroups (container-cgroup.ts) and for a set made ahead of
 * the spawn that takes it (cgroups-ahead.ts).
 */
import type { NativeBinding } from '../../types/native';
import type { Hierarchies, Hierarchy } from './hierarchy';
import { markName } from './cgroup-mark';
import { allHierarchies } from './cgroup-parent';
import { v1DeviceRules } from './device-rules';

export interface CgroupMakeSpec {
  spec: Parameters<NativeBinding['makeContainerCgroups']>[0];
  /** The v1 hierarchies among them, each with its directory. */
  v1: { hierarchy: Hierarchy; dir: string }[];
  /** The first directory is in the primary hierarchy: the call flocks it and returns its fd. */
  withPrimary: boolean;
}

/**
 * The make of `dirs`, one in each of `all` (in that order): marked, the v1 cpuset given its
 * parent's CPUs and memory nodes, the v1 devices list filled unless `deviceRules` is false
 * (privileged), the pids limit set when given.
 */
export function cgroupMakeSpec(hierarchies: Hierarchies, all: Hierarchy[], dirs: string[], deviceRules: boolean, pidsLimit: number | undefined): CgroupMakeSpec {
  const withPrimary = all[0] === allHierarchies(hierarchies)[0];
  const v1 = hierarchies.v1.filter((hierarchy) => all.includes(hierarchy)).map((hierarchy) => ({ hierarchy, dir: dirs[all.indexOf(hierarchy)] }));
  const withController = (controller: string): string | undefined => v1.find(({ hierarchy }) => hierarchy.controllers.includes(controller))?.dir;
  const devicesDir = withController('devices');
  const rules = deviceRules ? v1DeviceRules() : null;
  const cpusetDir = withController('cpuset');
  const unifiedDir = hierarchies.unified && all.includes(hierarchies.unified) ? dirs[0] : undefined;
  const pidsDir = withController('pids') ?? (hierarchies.unified?.controllers.includes('pids') ? unifiedDir : undefined);
  const spec = {
    dirs,
    mark: markName(),
    cpusets: cpusetDir ? [cpusetDir] : [],
    devices: devicesDir && rules ? { dir: devicesDir, rules: [...rules] } : undefined,
    pidsLimit: pidsLimit !== undefined && pidsDir ? { dir: pidsDir, limit: pidsLimit } : undefined,
    lockFirst: withPrimary,
  };
  return { spec, v1, withPrimary };
}
