/**
 * Compose's durations ("30s", "1m30s", "1h", "500ms", "10us") as milliseconds, the library's
 * unit; a number is already milliseconds.
 */
import { parseGoDuration } from '../options/go-duration';

/** The duration in whole ms, or undefined when it is not one. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const ms = parseGoDuration(value);
  return ms === undefined ? undefined : Math.round(ms);
}
