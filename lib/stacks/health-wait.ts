/**
 * depends_on: { condition: service_healthy }: the service's container runs its healthcheck
 * (the `healthcheck` option, in its monitor: lib/health), and the stack reads health() until
 * it says healthy. As compose, a dependency that turns unhealthy, or stops first, fails up().
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container } from '../container/container';

export type HealthOutcome = { healthy: true } | { healthy: false; why: string };

/** How often the health status is read. */
const POLL_MS = 100;

export async function waitHealthy(container: Container, signal?: AbortSignal): Promise<HealthOutcome> {
  for (;;) {
    const health = await container.health();
    if (health.status === 'healthy') return { healthy: true };
    if (health.status === 'none') return { healthy: false, why: 'has no healthcheck (in the file or its image)' };
    if (health.status === 'unhealthy') {
      const last = health.log[health.log.length - 1];
      const said = last ? `; the last check exited ${last.exitCode}${last.output.trim() ? `: ${last.output.trim().slice(0, 200)}` : ''}` : '';
      return { healthy: false, why: `is unhealthy (${health.failingStreak} failed checks${said})` };
    }
    if ((await container.state()).status === 'stopped') return { healthy: false, why: 'stopped before it became healthy' };
    await sleep(POLL_MS, undefined, { signal });
  }
}
