/**
 * The measurement loop every latency section shares: set up (and probe) each runner, warm
 * each up, then measure in rounds where every runner runs once, in a shuffled order. The
 * runners compared in one table are always measured in the same rounds of the same run, so
 * a noisy moment of the machine hits them all alike.
 */
import type { Runner } from './runners';
import { oneLine } from './runners';

export type Status = 'ok' | 'unavailable' | 'failed';

export interface RunnerState {
  runner: Runner;
  status: Status;
  reason?: string;
  samples: bigint[][]; // per row
}

export function stateOf(runner: Runner): RunnerState {
  return { runner, status: 'ok', samples: runner.rows.map(() => []) };
}

export function reasonOf(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}

/** A small deterministic PRNG (mulberry32), so that runs are comparable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function fail(s: RunnerState, phase: string, err: unknown, log: (line: string) => void): void {
  s.status = 'failed';
  s.reason = `${phase}: ${reasonOf(err)}`;
  log(`  ${s.runner.key}: failed ${s.reason}`);
}

/** Sets up every runner; one that cannot run here is marked unavailable with its reason. */
export async function setUpAll(states: RunnerState[], log: (line: string) => void): Promise<void> {
  for (const s of states) {
    const reason = await s.runner.setup();
    if (reason !== null) {
      s.status = 'unavailable';
      s.reason = reason;
      log(`  ${s.runner.key}: unavailable: ${reason}`);
    } else {
      log(`  ${s.runner.key}: ready`);
    }
  }
}

/** Warm-up, then `iterations` shuffled rounds; samples go into each state. */
export async function measureInterleaved(
  states: RunnerState[],
  counts: { warmup: number; iterations: number },
  random: () => number,
  log: (line: string) => void,
): Promise<void> {
  const active = () => states.filter((s) => s.status === 'ok');
  for (const s of active()) {
    for (let i = 0; i < counts.warmup && s.status === 'ok'; i++) {
      try {
        await s.runner.runOnce();
      } catch (err) {
        fail(s, `warm-up run ${i + 1}`, err, log);
      }
    }
  }

  // Not a rotation: a rotation keeps who runs after whom, and a runtime that follows one
  // whose network namespace the kernel is still tearing down would always pay for it.
  log(`  measuring ${active().length} runtimes × ${counts.iterations}…`);
  for (let i = 0; i < counts.iterations; i++) {
    const round = shuffled(active(), random);
    for (const s of round) {
      if (s.status !== 'ok') continue;
      try {
        const ns = await s.runner.runOnce();
        ns.forEach((v, k) => s.samples[k].push(v));
      } catch (err) {
        fail(s, `run ${i + 1}`, err, log);
      }
    }
  }
}
