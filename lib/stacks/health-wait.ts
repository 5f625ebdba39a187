/**
 * depends_on: { condition: service_healthy }: the stack runs the service's healthcheck itself,
 * as docker's health monitor would (the probe in the container every `interval`, each within
 * `timeout`; healthy at the first success; unhealthy after `retries` failures in a row once
 * `startPeriod` is over), until the service is healthy, unhealthy, or stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container } from '../container/container';
import type { StackHealthOptions } from './normalize';

export type HealthOutcome = { healthy: true } | { healthy: false; why: string };

export async function waitHealthy(container: Container, health: StackHealthOptions, signal?: AbortSignal): Promise<HealthOutcome> {
  const started = Date.now();
  let failures = 0;
  let last = '';
  for (;;) {
    await sleep(health.interval, undefined, { signal });
    if ((await container.state()).status !== 'running') return { healthy: false, why: 'stopped before it became healthy' };
    try {
      const result = await container.exec(health.test, { timeout: health.timeout, signal }).output();
      if (result.exitCode === 0) return { healthy: true };
      last = result.timedOut ? `timed out after ${health.timeout} ms` : `exited with ${result.exitCode ?? result.signal}: ${(result.stdout + result.stderr).trim().slice(0, 200)}`;
    } catch (error) {
      signal?.throwIfAborted();
      last = (error as Error).message;
    }
    // Failures while the service starts do not count.
    if (Date.now() - started >= health.startPeriod) failures++;
    if (failures >= health.retries) return { healthy: false, why: `is unhealthy (${failures} failed checks; the last ${last})` };
  }
}
