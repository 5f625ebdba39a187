/**
 * Summary statistics over latency samples. Samples are in nanoseconds (bigint from
 * process.hrtime.bigint()); summaries are in milliseconds.
 */

export interface Summary {
  /** Number of samples. */
  n: number;
  medianMs: number;
  /** 95th percentile, linear interpolation between closest ranks (as numpy's default). */
  p95Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
}

export function nsToMs(ns: bigint): number {
  return Number(ns) / 1e6;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between closest ranks. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (q <= 0) return sorted[0];
  if (q >= 1) return sorted[sorted.length - 1];
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.5);
}

export function p95(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.95);
}

export function summarize(samplesNs: readonly bigint[]): Summary {
  const ms = samplesNs.map(nsToMs).sort((a, b) => a - b);
  const sum = ms.reduce((a, b) => a + b, 0);
  return {
    n: ms.length,
    medianMs: quantileSorted(ms, 0.5),
    p95Ms: quantileSorted(ms, 0.95),
    minMs: ms.length ? ms[0] : Number.NaN,
    maxMs: ms.length ? ms[ms.length - 1] : Number.NaN,
    meanMs: ms.length ? sum / ms.length : Number.NaN,
  };
}
