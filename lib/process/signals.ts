/** Signal names and numbers of this platform, from Node's os.constants. */
import * as os from 'node:os';

const SIGNALS = os.constants.signals as Record<string, number>;

export function signalName(signal: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(SIGNALS)) {
    if (value === signal) return name as NodeJS.Signals;
  }
  return null;
}

/** A signal name or number as a number; throws a TypeError for an unknown one. */
export function toSignalNumber(signal: NodeJS.Signals | number | undefined, fallback: number): number {
  if (signal === undefined) return fallback;
  if (typeof signal === 'number') {
    if (Number.isInteger(signal) && signal >= 0 && signal < 65) return signal;
  } else if (typeof signal === 'string' && SIGNALS[signal.toUpperCase()] !== undefined) {
    return SIGNALS[signal.toUpperCase()];
  }
  throw new TypeError(`signal: unknown signal ${JSON.stringify(signal)}`);
}
