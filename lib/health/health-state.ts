/**
 * A container's health as docker keeps it: 'starting' until a check passes or `retries`
 * checks in a row fail (failures inside the start period do not count), then 'healthy' or
 * 'unhealthy'; the last results in a short log. The same rules run in Node (health-runner.ts,
 * for a container that is not detached) and in the monitor (native/monitor/health_check.cc),
 * both writing health.json (protocol/state-files.ts) for any process to read.
 */
import type { HealthcheckConfig } from './healthcheck-options';
import { HEALTH_LOG_SIZE, HEALTH_OUTPUT_MAX } from '../protocol/generated/state-files';

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** One check's result. */
export interface HealthLogEntry {
  start: Date;
  end: Date;
  /** 0: passed. -1: it could not run, or outlived its timeout and was killed. */
  exitCode: number;
  /** Its stdout and stderr together (the first 4096 bytes), or why it could not run. */
  output: string;
}

export interface ContainerHealth {
  status: HealthStatus;
  /** Failures in a row since the last pass (those in the start period do not count). */
  failingStreak: number;
  /** The last five results, oldest first. */
  log: HealthLogEntry[];
}

/** health.json as written: times in ms since the epoch. */
export interface HealthRecord {
  status: Exclude<HealthStatus, 'none'>;
  failingStreak: number;
  log: { start: number; end: number; exitCode: number; output: string }[];
}

export const NO_HEALTH: ContainerHealth = Object.freeze({ status: 'none', failingStreak: 0, log: [] }) as ContainerHealth;

export function startingRecord(): HealthRecord {
  return { status: 'starting', failingStreak: 0, log: [] };
}

/** The output kept of a check: its first bytes, as docker keeps them. */
export function keptOutput(bytes: Buffer): string {
  return bytes.subarray(0, HEALTH_OUTPUT_MAX).toString('utf8');
}

/**
 * The record after one result. `runStartedAt` is when the container's current run started:
 * a failure before `startPeriod` has passed since then changes nothing but the log.
 */
export function applyResult(
  record: HealthRecord,
  result: HealthRecord['log'][number],
  check: HealthcheckConfig,
  runStartedAt: number,
): HealthRecord {
  const log = [...record.log, result].slice(-HEALTH_LOG_SIZE);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const inStartPeriod = result.start - runStartedAt < check.startPeriod;
  if (inStartPeriod && record.status !== 'healthy') return { ...record, log };
  const failingStreak = record.failingStreak + 1;
  const status = failingStreak >= check.retries ? 'unhealthy' : record.status;
  return { status, failingStreak, log };
}

/** What health() resolves with, from a record (or none). */
export function healthOf(record: HealthRecord | undefined, configured: boolean): ContainerHealth {
  if (!configured) return { ...NO_HEALTH, log: [] };
  if (!record) return { status: 'starting', failingStreak: 0, log: [] };
  return {
    status: record.status,
    failingStreak: record.failingStreak,
    log: record.log.map((e) => ({ start: new Date(e.start), end: new Date(e.end), exitCode: e.exitCode, output: e.output })),
  };
}

/** A parsed health.json that has the expected shape, else undefined. */
export function checkHealthRecord(value: unknown): HealthRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<HealthRecord>;
  if (record.status !== 'starting' && record.status !== 'healthy' && record.status !== 'unhealthy') return undefined;
  if (typeof record.failingStreak !== 'number' || !Array.isArray(record.log)) return undefined;
  return record as HealthRecord;
}
