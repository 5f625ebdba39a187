/**
 * An opt-in record of when each phase of a container's spawn and destroy ended, to see where
 * the time goes (bench/phases.ts reads it). Off unless TS_CONTAINER_PHASE_TRACE=1 is set when
 * this module loads: then `phaseTrace` is null, and a mark (`phaseTrace?.mark(id, phase)`)
 * costs one null check and evaluates none of its arguments.
 *
 * A mark names the phase that has just ended; a phase's duration is the time since the mark
 * before it of the same container (the first one's: since the caller's own start). Marks are
 * kept per container id until taken, at most MAX_TRACES containers' worth.
 */
import type { EventEmitter } from 'node:events';

export interface PhaseMark {
  /** The phase that ended here, e.g. 'state directory made'. */
  phase: string;
  /** performance.now() when it ended. */
  at: number;
}

/** Traces nobody takes are dropped oldest first beyond this many: a long run stays bounded. */
const MAX_TRACES = 10_000;

export class PhaseTrace {
  readonly #traces = new Map<string, PhaseMark[]>();

  mark(id: string, phase: string): void {
    const at = performance.now();
    let marks = this.#traces.get(id);
    if (!marks) {
      if (this.#traces.size >= MAX_TRACES) this.#traces.delete(this.#traces.keys().next().value as string);
      marks = [];
      this.#traces.set(id, marks);
    }
    marks.push({ phase, at });
  }

  /** Marks the process's 'spawn', 'exit' and 'close' events, as they are emitted. */
  follow(id: string, process: EventEmitter): void {
    for (const event of ['spawn', 'exit', 'close']) process.once(event, () => this.mark(id, `'${event}'`));
  }

  /** The container's marks in order, forgotten here. */
  take(id: string): PhaseMark[] {
    const marks = this.#traces.get(id) ?? [];
    this.#traces.delete(id);
    return marks;
  }
}

/**
 * Published on globalThis too, so that a reader gets the same trace whichever copy of this
 * module it loads (lib/ from source, a bundle in dist/).
 */
const SLOT = Symbol.for('ts-container.phaseTrace');

function enabled(): PhaseTrace | null {
  if (process.env.TS_CONTAINER_PHASE_TRACE !== '1') return null;
  const holder = globalThis as unknown as Record<symbol, PhaseTrace | undefined>;
  holder[SLOT] ??= new PhaseTrace();
  return holder[SLOT];
}

export const phaseTrace: PhaseTrace | null = enabled();
