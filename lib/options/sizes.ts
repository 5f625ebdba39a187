/** Byte sizes as users write them: 1048576, "64m", "1g", "512k". */

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes for a size, or undefined when it is not one. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = UNITS[match[2].toLowerCase()];
  const exact = Number(match[1]) * unit;
  // "0.5" (bytes) is no size; "1.2g" is, in whole bytes.
  if (unit === 1 && !Number.isInteger(exact)) return undefined;
  const bytes = Math.floor(exact);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
