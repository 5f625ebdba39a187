/**
 * What a detached container's monitor needs to run its health checks (native/monitor/
 * health_check.cc): the check's exec plan, made here as exec() makes one, and its timings.
 * The plan's join.pid is a placeholder: the monitor puts in each run's main process.
 */
import type { ContainerConfig } from '../options/validate';
import { normalizeProcessOptions } from '../options/validate';
import type { CgroupPlan } from '../cgroups/container-cgroup';
import type { PreparedSeccomp } from '../container/seccomp-setup';
import { execPlan, type Entry } from '../container/plan';

export function healthMonitorEntries(config: ContainerConfig, cgroup: CgroupPlan | null, seccomp: PreparedSeccomp | null): Entry[] {
  const check = config.healthcheck;
  if (!check || !config.lifecycle.detach) return [];
  const { argv, process } = normalizeProcessOptions(check.argv, undefined, config);
  const plan = execPlan(argv, process, config, cgroup, seccomp, 0);
  return [
    ['health.plan', plan.toString('hex')],
    ['health.interval', check.interval],
    ['health.timeout', check.timeout],
    ['health.retries', check.retries],
    ['health.start_period', check.startPeriod],
  ];
}
