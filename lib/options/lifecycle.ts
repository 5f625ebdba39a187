/**
 * The lifecycle options of a container: where its state lives, whether it outlives its
 * maker, its restart policy, its annotations and its default command.
 */
import type { RestartPolicy } from '../state/types';
import { resolveStateRoot } from '../state/state-root';
import { fail } from './option-error';
import { parseByteSize } from './sizes';
import { constants as osConstants } from 'node:os';
import { DEFAULT_LOG_MAX_FILES, DEFAULT_LOG_MAX_SIZE } from './defaults';

export interface NormalizedRestart {
  policy: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** on-failure: at most this many restarts; 0 for no limit. */
  maxRetries: number;
  /** As given, for the state record. */
  text: RestartPolicy;
}

export interface LifecycleConfig {
  detach: boolean;
  restart: NormalizedRestart;
  stateRoot: string;
  annotations: Record<string, string>;
  /** The main process's argv when create() or spawn() gets none. */
  command: string[] | null;
  /** A detached container's log: rotated past maxSize bytes, maxFiles files kept in all. */
  log: { maxSize: number; maxFiles: number };
  /** stop()'s first signal (a number), and its seconds before SIGKILL, unless stop() says. */
  stopSignal: number;
  stopTimeout: number;
}

const SIGTERM = 15;
/** docker stop's default grace period, in seconds. */
export const DEFAULT_STOP_TIMEOUT_S = 10;

function checkStopSignal(value: unknown): number {
  if (value === undefined) return SIGTERM;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65) return value;
  const named = typeof value === 'string' ? (osConstants.signals as Record<string, number | undefined>)[value.toUpperCase()] : undefined;
  if (named === undefined) fail('stopSignal', `expected a signal name like "SIGTERM" or a number from 1 to 64, got ${JSON.stringify(value) ?? String(value)}`);
  return named;
}

function checkStopTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_STOP_TIMEOUT_S;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail('stopTimeout', `expected a number of seconds, 0 or more, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

const RESTART_PATTERN = /^(no|always|unless-stopped|on-failure)(?::(\d{1,9}))?$/;

export function checkRestart(value: unknown, where = 'restart'): NormalizedRestart {
  if (value === undefined) return { policy: 'no', maxRetries: 0, text: 'no' };
  const match = typeof value === 'string' ? RESTART_PATTERN.exec(value) : null;
  if (!match || (match[2] !== undefined && match[1] !== 'on-failure')) {
    fail(where, `expected "no", "always", "unless-stopped", "on-failure" or "on-failure:N", got ${JSON.stringify(value) ?? String(value)}`);
  }
  return { policy: match[1] as NormalizedRestart['policy'], maxRetries: match[2] ? Number(match[2]) : 0, text: value as RestartPolicy };
}

function checkAnnotations(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('annotations', 'expected an object of strings');
  const annotations: Record<string, string> = {};
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string') fail(`annotations.${key}`, `expected a string, got ${typeof text}`);
    annotations[key] = text;
  }
  return annotations;
}

export function checkCommand(value: unknown, where = 'command'): string[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0 || !value.every((a) => typeof a === 'string' && !a.includes('\0'))) {
    fail(where, 'expected a non-empty array of strings (the program and its arguments)');
  }
  if ((value[0] as string) === '') fail(`${where}[0]`, 'the program must not be empty');
  return [...(value as string[])];
}

/** The smallest log file: a few frames of 64 KiB (the monitor's read size) fit in it. */
const MIN_LOG_SIZE = 64 * 1024;

export function checkLogRotation(value: unknown, where = 'log'): LifecycleConfig['log'] {
  const log = { maxSize: parseByteSize(DEFAULT_LOG_MAX_SIZE) as number, maxFiles: DEFAULT_LOG_MAX_FILES };
  if (value === undefined) return log;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'expected { maxSize?, maxFiles? }');
  for (const key of Object.keys(value)) {
    if (key !== 'maxSize' && key !== 'maxFiles') fail(`${where}.${key}`, 'unknown option (expected one of maxSize, maxFiles)');
  }
  const { maxSize, maxFiles } = value as { maxSize?: unknown; maxFiles?: unknown };
  if (maxSize !== undefined) {
    const bytes = parseByteSize(maxSize);
    if (bytes === undefined || bytes < MIN_LOG_SIZE) {
      fail(`${where}.maxSize`, `expected bytes or a size like "10m", at least 64k, got ${JSON.stringify(maxSize) ?? String(maxSize)}`);
    }
    log.maxSize = bytes;
  }
  if (maxFiles !== undefined) {
    if (typeof maxFiles !== 'number' || !Number.isInteger(maxFiles) || maxFiles < 1 || maxFiles > 100) {
      fail(`${where}.maxFiles`, `expected a whole number of files from 1 to 100, got ${JSON.stringify(maxFiles) ?? String(maxFiles)}`);
    }
    log.maxFiles = maxFiles;
  }
  return log;
}

export function normalizeLifecycle(options: {
  detach?: unknown;
  restart?: unknown;
  stateRoot?: unknown;
  annotations?: unknown;
  command?: unknown;
  log?: unknown;
  stopSignal?: unknown;
  stopTimeout?: unknown;
}): LifecycleConfig {
  if (options.detach !== undefined && typeof options.detach !== 'boolean') fail('detach', 'expected a boolean');
  const detach = options.detach === true;
  const restart = checkRestart(options.restart);
  if (restart.policy !== 'no' && !detach) {
    fail('restart', 'needs detach: true: only a detached container has a monitor to restart it');
  }
  return {
    detach,
    restart,
    stateRoot: resolveStateRoot(options.stateRoot),
    annotations: checkAnnotations(options.annotations),
    command: checkCommand(options.command),
    log: checkLogRotation(options.log),
    stopSignal: checkStopSignal(options.stopSignal),
    stopTimeout: checkStopTimeout(options.stopTimeout),
  };
}
