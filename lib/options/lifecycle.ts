/**
 * The lifecycle options of a container: where its state lives, whether it outlives its
 * maker, its restart policy, its annotations and its default command.
 */
import type { RestartPolicy } from '../state/types';
import { resolveStateRoot } from '../state/state-root';
import { fail } from './option-error';

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

export function normalizeLifecycle(options: {
  detach?: unknown;
  restart?: unknown;
  stateRoot?: unknown;
  annotations?: unknown;
  command?: unknown;
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
  };
}
