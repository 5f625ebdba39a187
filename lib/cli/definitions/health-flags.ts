/**
 * docker's --health-* flags of run and create: each one a field of the `healthcheck` option,
 * durations in docker's spelling (30s, 1m30s) turned into the library's milliseconds. Without
 * --health-cmd they change the image's own check; --no-healthcheck turns that off.
 */
import type { FlagDef } from './flag';
import * as v from './values';

/** A docker duration as whole milliseconds; "0" is docker's "the default": the field left out. */
export function healthDuration(text: string): number | undefined {
  const ms = v.duration(text);
  return ms === 0 ? undefined : Math.max(1, Math.round(ms));
}

export const HEALTH_FLAGS: readonly FlagDef[] = [
  {
    names: ['--health-cmd'],
    value: 'COMMAND',
    help: "A check run in the container by /bin/sh -c: exit 0 is healthy (shown in list's STATUS and by inspect)",
    target: 'container:healthcheck.test',
    convert: (command: string) => ['CMD-SHELL', command],
  },
  {
    names: ['--health-interval'],
    value: 'DURATION',
    help: 'Time before the first check and between checks (default 30s)',
    target: 'container:healthcheck.interval',
    convert: healthDuration,
  },
  {
    names: ['--health-timeout'],
    value: 'DURATION',
    help: 'A check running longer is killed and fails (default 30s)',
    target: 'container:healthcheck.timeout',
    convert: healthDuration,
  },
  {
    names: ['--health-retries'],
    value: 'N',
    help: 'Failures in a row that make the container unhealthy (default 3)',
    target: 'container:healthcheck.retries',
    convert: v.integer,
  },
  {
    names: ['--health-start-period'],
    value: 'DURATION',
    help: 'Failures in this time from the start do not count (default 0s)',
    target: 'container:healthcheck.startPeriod',
    convert: healthDuration,
  },
  {
    names: ['--no-healthcheck'],
    help: "Run no health check, not even the image's",
    target: 'container:healthcheck.test',
    switchValue: ['NONE'],
  },
];
