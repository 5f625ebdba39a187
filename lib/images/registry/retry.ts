/**
 * When a failed exchange with a registry is worth another try, and how long to wait first:
 * 5xx and 429 replies and the network failures a restart or a flaky link cause.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

export function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && RETRY_CODES.has(code);
}

export interface RetryPolicy {
  /** Tries after the first one. */
  retries: number;
  /** The first wait; each next one doubles, with up to half of it added at random. */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, baseDelayMs: 200 };

/** Waits before try number `attempt` (1 = the first retry); a Retry-After in seconds is honoured up to 30 s. */
export function backOff(policy: RetryPolicy, attempt: number, signal?: AbortSignal, retryAfter?: string): Promise<void> {
  const asked = retryAfter && /^\d+$/.test(retryAfter) ? Math.min(Number(retryAfter), 30) * 1000 : 0;
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  const wait = Math.max(asked, exponential + Math.random() * exponential * 0.5);
  return sleep(wait, undefined, { signal });
}
