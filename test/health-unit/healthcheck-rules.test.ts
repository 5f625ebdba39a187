/**
 * The healthcheck option and docker's rules, without containers: the test forms, defaults and
 * refusals, an image's nanoseconds turned into milliseconds, the status after each result
 * (start period, retries, the log of five), the listening-socket table, and the CLI's
 * --health-* flags with docker durations.
 */
import { normalizeHealthcheck, imageHealthcheck, healthcheckOverImage } from '../../lib/health/healthcheck-options';
import { applyResult, startingRecord, type HealthRecord } from '../../lib/health/health-state';
import { listeningPorts } from '../../lib/health/listening-ports';
import { parseCommandLine } from '../../lib/cli/program';
import { healthDuration } from '../../lib/cli/definitions/health-flags';
import { FlagValueError } from '../../lib/cli/definitions/flag';
import { formatContainerList, statusText } from '../../lib/cli/commands/format';
import { dockerHealth, dockerHealthcheck } from '../../lib/cli/commands/health-format';
import type { ContainerListEntry } from '../../lib/state/types';

describe('the healthcheck option', () => {
  test("CMD, CMD-SHELL and a plain argv become what runs; NONE is no check; defaults are docker's", () => {
    expect(normalizeHealthcheck({ test: ['CMD', 'pg_isready', '-q'] })).toEqual({ argv: ['pg_isready', '-q'], interval: 30000, timeout: 30000, retries: 3, startPeriod: 0 });
    expect(normalizeHealthcheck({ test: ['CMD-SHELL', 'curl -f localhost || exit 1'], interval: 500, timeout: 100, retries: 1, startPeriod: 2000 })).toEqual({
      argv: ['/bin/sh', '-c', 'curl -f localhost || exit 1'],
      interval: 500,
      timeout: 100,
      retries: 1,
      startPeriod: 2000,
    });
    expect(normalizeHealthcheck({ test: ['true'] })?.argv).toEqual(['true']);
    expect(normalizeHealthcheck({ test: ['NONE'] })).toBeNull();
    expect(normalizeHealthcheck(undefined)).toBeNull();
  });

  test.each([
    [{ test: [] }, /^healthcheck\.test: expected \['CMD'/],
    [{ test: 'true' }, /^healthcheck\.test: expected/],
    [{ test: ['CMD'] }, /^healthcheck\.test: expected a program after 'CMD'/],
    [{ test: ['CMD-SHELL', 'a', 'b'] }, /^healthcheck\.test: \['CMD-SHELL', command\] takes exactly one/],
    [{ test: ['true'], interval: 0 }, /^healthcheck\.interval: expected milliseconds \(a whole number above 0\), got 0/],
    [{ test: ['true'], timeout: 1.5 }, /^healthcheck\.timeout: expected milliseconds/],
    [{ test: ['true'], startPeriod: -1 }, /^healthcheck\.startPeriod: expected milliseconds/],
    [{ test: ['true'], retries: 0 }, /^healthcheck\.retries: expected a whole number from 1, got 0/],
    [{ test: ['true'], every: 5 }, /^healthcheck\.every: unknown option/],
    [{ interval: 5 }, /^healthcheck\.test: required/],
  ])('%j is refused with the option path', (option, message) => {
    expect(() => normalizeHealthcheck(option)).toThrow(TypeError);
    expect(() => normalizeHealthcheck(option)).toThrow(message);
  });

  test("an image's Healthcheck: nanoseconds to milliseconds, 0 meaning unset; the option's fields change it", () => {
    const runtime = { Healthcheck: { Test: ['CMD-SHELL', 'test -e /ready'], Interval: 2_000_000_000, Timeout: 0, StartPeriod: 1_500_000, Retries: 4 } };
    expect(imageHealthcheck(runtime)).toEqual({ test: ['CMD-SHELL', 'test -e /ready'], interval: 2000, startPeriod: 2, retries: 4 });
    expect(healthcheckOverImage(undefined, runtime)).toEqual({ argv: ['/bin/sh', '-c', 'test -e /ready'], interval: 2000, timeout: 30000, retries: 4, startPeriod: 2 });
    expect(healthcheckOverImage({ interval: 100 }, runtime)?.interval).toBe(100);
    expect(healthcheckOverImage({ test: ['NONE'] }, runtime)).toBeNull();
    expect(healthcheckOverImage({ test: ['CMD', 'true'] }, runtime)?.argv).toEqual(['true']);
    expect(imageHealthcheck({})).toBeUndefined();
    expect(() => healthcheckOverImage({ interval: 100 }, {})).toThrow(/^healthcheck\.test: required: the image has no Healthcheck/);
  });
});

describe("docker's status rules", () => {
  const check = { argv: ['true'], interval: 10, timeout: 10, retries: 3, startPeriod: 0 };
  const result = (exitCode: number, start = 1000) => ({ start, end: start + 1, exitCode, output: `exit ${exitCode}` });
  const after = (codes: number[], options = check, runStartedAt = 0): HealthRecord =>
    codes.reduce((record, code, i) => applyResult(record, result(code, 1000 + i), options, runStartedAt), startingRecord());

  test('a pass is healthy; retries failures in a row are unhealthy; a pass resets the streak', () => {
    expect(after([0]).status).toBe('healthy');
    expect(after([1, 1])).toMatchObject({ status: 'starting', failingStreak: 2 });
    expect(after([1, 1, 1])).toMatchObject({ status: 'unhealthy', failingStreak: 3 });
    expect(after([0, 1, 1])).toMatchObject({ status: 'healthy', failingStreak: 2 });
    expect(after([1, 1, 1, 0])).toMatchObject({ status: 'healthy', failingStreak: 0 });
  });

  test('failures in the start period do not count, unless it was healthy already; a pass there counts', () => {
    const slow = { ...check, retries: 1, startPeriod: 5000 };
    expect(after([1, 1, 1, 1], slow)).toMatchObject({ status: 'starting', failingStreak: 0 });
    expect(after([0, 1], slow)).toMatchObject({ status: 'unhealthy', failingStreak: 1 });
    // Past the period (the run started long before), the first failure counts.
    expect(after([1], slow, -10_000)).toMatchObject({ status: 'unhealthy', failingStreak: 1 });
  });

  test('the log keeps the last five results, oldest first', () => {
    const record = after([1, 2, 3, 4, 5, 6, 0]);
    expect(record.log.map((e) => e.exitCode)).toEqual([3, 4, 5, 6, 0]);
    expect(record.log[4].output).toBe('exit 0');
  });
});

test('listening sockets of /proc/PID/net/tcp: state 0A, the local port in hex', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0',
    '   1: 0100007F:0016 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1',
  ].join('\n');
  expect([...listeningPorts(table)]).toEqual([8080]);
});

describe('the CLI', () => {
  const parse = (args: string[]) => parseCommandLine(args, { cwd: '/', env: {} });

  test('docker durations become milliseconds; 0 is the default; anything else is refused', () => {
    expect(healthDuration('30s')).toBe(30000);
    expect(healthDuration('1m30s')).toBe(90000);
    expect(healthDuration('1.5h')).toBe(5_400_000);
    expect(healthDuration('250ms')).toBe(250);
    expect(healthDuration('0')).toBeUndefined();
    for (const bad of ['', '30', '5 s', '1d', 's', '1m30']) expect(() => healthDuration(bad)).toThrow(FlagValueError);
  });

  test('--health-* set the healthcheck option; --no-healthcheck is its NONE', () => {
    const run = parse(['run', '-d', '--health-cmd', 'pg_isready', '--health-interval', '2s', '--health-timeout', '500ms', '--health-retries', '5', '--health-start-period', '1m', '--', 'sleep', '9']);
    expect(run).toMatchObject({
      kind: 'run',
      options: { detach: true, healthcheck: { test: ['CMD-SHELL', 'pg_isready'], interval: 2000, timeout: 500, retries: 5, startPeriod: 60000 } },
    });
    expect(parse(['create', '--no-healthcheck', '--', 'true'])).toMatchObject({ options: { healthcheck: { test: ['NONE'] } } });
    expect(() => parse(['run', '--health-interval', 'soon', '--', 'true'])).toThrow(/--health-interval/);
  });

  test("list's STATUS shows the health of a running container as docker ps does", () => {
    const entry = (status: ContainerListEntry['status'], health?: 'starting' | 'healthy' | 'unhealthy') =>
      ({
        ociVersion: '1.2.0', id: `c-${status}-${health}`, status, pid: 10, bundle: '/b', annotations: {}, created: new Date().toISOString(),
        restartCount: 0, detached: true, restart: 'no', command: ['x'], rootfs: null,
        ...(health ? { health: { status: health, failingStreak: 0, log: [] } } : {}),
      }) as ContainerListEntry;
    const entries = [entry('running', 'healthy'), entry('running', 'starting'), entry('running', 'unhealthy'), entry('running'), entry('stopped', 'healthy')];
    expect(entries.map(statusText)).toEqual(['running (healthy)', 'running (health: starting)', 'running (unhealthy)', 'running', 'stopped']);
    expect(formatContainerList(entries.slice(0, 1), new Date())).toMatch(/ running \(healthy\) /);
  });
});

test("inspect's docker shapes: State.Health and Config.Healthcheck (nanoseconds)", () => {
  const start = new Date('2026-01-01T00:00:00.000Z');
  const end = new Date('2026-01-01T00:00:00.250Z');
  expect(dockerHealth({ status: 'unhealthy', failingStreak: 3, log: [{ start, end, exitCode: 1, output: 'no\n' }] })).toEqual({
    Status: 'unhealthy',
    FailingStreak: 3,
    Log: [{ Start: '2026-01-01T00:00:00.000Z', End: '2026-01-01T00:00:00.250Z', ExitCode: 1, Output: 'no\n' }],
  });
  expect(dockerHealth(undefined)).toBeUndefined();
  expect(dockerHealthcheck({ argv: ['/bin/sh', '-c', 'pg_isready'], interval: 1000, timeout: 3000, retries: 5, startPeriod: 0 })).toEqual({
    Test: ['CMD', '/bin/sh', '-c', 'pg_isready'],
    Interval: 1e9,
    Timeout: 3e9,
    StartPeriod: 0,
    Retries: 5,
  });
  expect(dockerHealthcheck(null)).toBeUndefined();
});
