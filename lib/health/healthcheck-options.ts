/**
 * The `healthcheck` option, as docker and the image config have it: a test run inside the
 * container every `interval`, a failure when it exits non-zero or outlives `timeout`,
 * `retries` failures in a row make the container unhealthy, and failures during
 * `startPeriod` do not count. Durations are milliseconds here; an image's are nanoseconds.
 */
import { fail } from '../options/option-error';
import type { ImageRuntimeConfig } from '../images/manifest';

/**
 * The test: ['CMD', program, ...args], ['CMD-SHELL', 'shell command'] (run by /bin/sh -c),
 * ['NONE'] (no check, also switches off an image's), or a plain argv (as 'CMD').
 */
export type HealthcheckTest = string[];

export interface HealthcheckOptions {
  /** Required unless the container has an image with a Healthcheck: the other fields then change that one's. */
  test?: HealthcheckTest;
  /** Between the end of one check and the start of the next, and before the first. Default 30000 ms. */
  interval?: number;
  /** A check that runs longer is killed and counts as a failure. Default 30000 ms. */
  timeout?: number;
  /** Consecutive failures that make the container unhealthy. Default 3. */
  retries?: number;
  /** From the start: failures in this time do not count (a success still makes it healthy). Default 0. */
  startPeriod?: number;
}

/** A healthcheck with its defaults filled in; `argv` is what runs in the container. */
export interface HealthcheckConfig {
  argv: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
}

export const DEFAULT_HEALTH_INTERVAL_MS = 30_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;
export const DEFAULT_HEALTH_RETRIES = 3;
/** Milliseconds fit the plan's 32-bit fields: about 49 days at most. */
const MAX_DURATION_MS = 0xffff_ffff;

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** argv of a test; null for ['NONE']. */
export function testArgv(test: unknown, where: string): string[] | null {
  if (!Array.isArray(test) || test.length === 0 || !test.every((a) => typeof a === 'string' && !a.includes('\0'))) {
    fail(where, `expected ['CMD', program, ...args], ['CMD-SHELL', command], ['NONE'] or an argv, got ${describe(test)}`);
  }
  const [kind, ...rest] = test as string[];
  if (kind === 'NONE') return null;
  if (kind === 'CMD-SHELL') {
    if (rest.length !== 1 || rest[0] === '') fail(where, "['CMD-SHELL', command] takes exactly one non-empty command");
    return ['/bin/sh', '-c', rest[0] as string];
  }
  const argv = kind === 'CMD' ? rest : (test as string[]);
  if (argv.length === 0 || argv[0] === '') fail(where, "expected a program after 'CMD'");
  return argv;
}

function duration(value: unknown, where: string, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > MAX_DURATION_MS) {
    fail(where, `expected milliseconds (a whole number${allowZero ? '' : ' above 0'}), got ${describe(value)}`);
  }
  return value;
}

const KEYS = new Set(['test', 'interval', 'timeout', 'retries', 'startPeriod']);

/**
 * The option checked, defaults filled in; null when there is none or its test is ['NONE'].
 * `underImage`: a missing test is allowed (the image's applies, image-rootfs.ts) and gives null here.
 */
export function normalizeHealthcheck(value: unknown, where = 'healthcheck', underImage = false): HealthcheckConfig | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) fail(where, 'expected { test, interval?, timeout?, retries?, startPeriod? }');
  for (const key of Object.keys(value)) if (!KEYS.has(key)) fail(`${where}.${key}`, `unknown option (expected one of ${[...KEYS].join(', ')})`);
  const options = value as Record<string, unknown>;
  if (options.test === undefined) {
    if (!underImage) fail(`${where}.test`, "required (only a container of an image with a Healthcheck may leave it out, to change that one's timings)");
    return null;
  }
  const argv = testArgv(options.test, `${where}.test`);
  const interval = duration(options.interval, `${where}.interval`, DEFAULT_HEALTH_INTERVAL_MS, false);
  const timeout = duration(options.timeout, `${where}.timeout`, DEFAULT_HEALTH_TIMEOUT_MS, false);
  const startPeriod = duration(options.startPeriod, `${where}.startPeriod`, 0, true);
  let retries = DEFAULT_HEALTH_RETRIES;
  if (options.retries !== undefined) {
    const r = options.retries;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > 1_000_000) fail(`${where}.retries`, `expected a whole number from 1, got ${describe(r)}`);
    retries = r;
  }
  return argv === null ? null : { argv, interval, timeout, retries, startPeriod };
}

/** Nanoseconds of an image config to milliseconds; 0 or missing is "not set" there, as docker reads it. */
function fromNanoseconds(ns: number | undefined): number | undefined {
  return typeof ns === 'number' && ns > 0 ? Math.max(1, Math.round(ns / 1e6)) : undefined;
}

/**
 * An image's Healthcheck as the option would give it, or undefined when the image has none
 * (or an empty test, which docker reads as "inherit": nothing to inherit here).
 */
export function imageHealthcheck(runtime: ImageRuntimeConfig): HealthcheckOptions | undefined {
  const check = runtime.Healthcheck;
  if (!check || !Array.isArray(check.Test) || check.Test.length === 0) return undefined;
  const options: HealthcheckOptions = { test: check.Test };
  const interval = fromNanoseconds(check.Interval);
  const timeout = fromNanoseconds(check.Timeout);
  const startPeriod = fromNanoseconds(check.StartPeriod);
  if (interval !== undefined) options.interval = interval;
  if (timeout !== undefined) options.timeout = timeout;
  if (startPeriod !== undefined) options.startPeriod = startPeriod;
  if (typeof check.Retries === 'number' && check.Retries > 0) options.retries = check.Retries;
  return options;
}

/**
 * The check of a container of an image: the option's fields over the image's Healthcheck
 * (a test-less option only changes the image's timings); null when neither has a test.
 */
export function healthcheckOverImage(option: unknown, runtime: ImageRuntimeConfig): HealthcheckConfig | null {
  const fromImage = imageHealthcheck(runtime);
  if (option === undefined) return normalizeHealthcheck(fromImage, 'image Healthcheck');
  const given = option as HealthcheckOptions;
  if (given.test !== undefined) return normalizeHealthcheck(given);
  if (fromImage === undefined) fail('healthcheck.test', 'required: the image has no Healthcheck whose timings the other fields could change');
  const merged: Record<string, unknown> = { ...fromImage };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) merged[key] = value;
  return normalizeHealthcheck(merged);
}
