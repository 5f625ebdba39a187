/**
 * Compose's durations ("30s", "1m30s", "1h", "500ms", "10us") as milliseconds, the library's
 * unit; a number is already milliseconds.
 */
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/y;

/** The duration in ms, or undefined when it is not one. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < value.length) {
    const at = PART.lastIndex;
    const match = PART.exec(value);
    if (!match || match.index !== at) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return Math.round(total);
}
