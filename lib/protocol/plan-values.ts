/**
 * How each declared value type is spelled in the plan (protocol/plan-fields.ts). The generated
 * encoders call these; a value its type cannot carry is a bug of the caller, never of the
 * user's input (which lib/options validated), so it throws a plain internal error.
 */
const UINT32_MAX = 0xffffffff;
const UINT64_MAX = (1n << 64n) - 1n;

function internal(key: string, what: string): Error {
  return new Error(`ts-container: internal: plan entry ${key}: ${what}`);
}

export function encodeText(key: string, value: string, rules: { word?: boolean; absolute?: boolean } = {}): string {
  if (typeof value !== 'string' || value.includes('\0')) throw internal(key, 'expected text without NUL');
  if (rules.word && (value === '' || value.includes(' '))) throw internal(key, `expected one word, got '${value}'`);
  if (rules.absolute && !value.startsWith('/')) throw internal(key, `expected an absolute path, got '${value}'`);
  return value;
}

export function encodeUint(key: string, value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) throw internal(key, `expected a 32-bit unsigned integer, got ${value}`);
  return String(value);
}

export function encodeUint64(key: string, value: number | bigint): string {
  const ok = typeof value === 'bigint' ? value >= 0n && value <= UINT64_MAX : Number.isSafeInteger(value) && value >= 0;
  if (!ok) throw internal(key, `expected a 64-bit unsigned integer, got ${value}`);
  return String(value);
}

export function encodeInt64(key: string, value: number): string {
  if (!Number.isSafeInteger(value)) throw internal(key, `expected an integer, got ${value}`);
  return String(value);
}

export function encodeBool(value: boolean): string {
  return value ? '1' : '0';
}

export function encodeHex(key: string, value: string): string {
  if (!/^(?:[0-9a-f]{2})*$/.test(value)) throw internal(key, 'expected lower-case hex bytes');
  return value;
}
