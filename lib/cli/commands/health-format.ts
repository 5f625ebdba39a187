/**
 * A container's health in the CLI's words, as docker shows it: the STATUS suffix of `list`/`ps`
 * ("(healthy)", "(health: starting)"), and inspect's State.Health and Config.Healthcheck
 * (durations in nanoseconds there, as docker's JSON has them).
 */
import type { HealthcheckConfig } from '../../health/healthcheck-options';
import type { ContainerHealth } from '../../health/health-state';
import type { ContainerListEntry } from '../../state/types';

/** " (healthy)", " (unhealthy)", " (health: starting)" for a running container with checks; else "". */
export function healthSuffix(entry: ContainerListEntry): string {
  if (entry.error !== undefined || !entry.health || entry.status !== 'running') return '';
  return entry.health.status === 'starting' ? ' (health: starting)' : ` (${entry.health.status})`;
}

/** docker inspect's State.Health, or undefined without checks. */
export function dockerHealth(health: ContainerHealth | undefined): object | undefined {
  if (!health) return undefined;
  return {
    Status: health.status,
    FailingStreak: health.failingStreak,
    Log: health.log.map((e) => ({ Start: e.start.toISOString(), End: e.end.toISOString(), ExitCode: e.exitCode, Output: e.output })),
  };
}

const NS_PER_MS = 1_000_000;

/** docker inspect's Config.Healthcheck, or undefined without a check. */
export function dockerHealthcheck(check: HealthcheckConfig | null): object | undefined {
  if (!check) return undefined;
  return {
    Test: ['CMD', ...check.argv],
    Interval: check.interval * NS_PER_MS,
    Timeout: check.timeout * NS_PER_MS,
    StartPeriod: check.startPeriod * NS_PER_MS,
    Retries: check.retries,
  };
}
