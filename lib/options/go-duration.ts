/**
 * Go's duration text ("30s", "1m30s", "1.5h", "250ms"; "0" alone), as docker's flags and compose
 * files write durations, in the library's unit: milliseconds. One reader for the CLI's flags
 * and for compose files.
 */

/** Go's duration units, in milliseconds. */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g;

/** The duration in milliseconds (not rounded), or undefined when the text is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * (UNIT_MS[unit as string] as number);
  return ms;
}
