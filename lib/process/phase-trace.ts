/**
 * An opt-in record of when each phase of a container's spawn and destroy ended, to see where
 * the time goes (bench/phases.ts reads it). Off unless TS_CONTAINER_PHASE_TRACE=1 is set when
 * this module loads: then `phaseTrace` is null, and a mark (`phaseTrace?.mark(id, phase)`)
 * costs one null check and evaluates none of its arguments.
 *
 * A mark names the phase that has just ended; a phase's duration is the time since the mark
 * before it of the same container (the first one's: since the caller's own start). Marks are
 * kept per container id until taken, at most MAX_TRACES containers' worth.
 *
 * The helper's steps, between the plan's hand-over and its report, are marked by the helper
 * itself (native/helper/phase_marks.h) and kept apart (takeHelper): they happen in other
 * processes, beside Node's own marks of that stretch.
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
  readonly #helperTraces = new Map<string, PhaseMark[]>();

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

  /**
   * Keeps the helper's marks of a container's first process: HelperReport.phaseMarks, one
   * "name<TAB>microseconds" line per step on CLOCK_MONOTONIC, which process.hrtime reads and
   * performance.now() counts from another origin.
   */
  markHelper(id: string, lines: string): void {
    const originMs = performance.now() - Number(process.hrtime.bigint()) / 1e6;
    const marks: PhaseMark[] = [];
    for (const line of lines.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) marks.push({ phase: line.slice(0, tab), at: Number(line.slice(tab + 1)) / 1000 + originMs });
    }
    if (this.#helperTraces.size >= MAX_TRACES) this.#helperTraces.delete(this.#helperTraces.keys().next().value as string);
    this.#helperTraces.set(id, marks);
  }

  /** The helper's marks of the container (markHelper), in order, forgotten here. */
  takeHelper(id: string): PhaseMark[] {
    const marks = this.#helperTraces.get(id) ?? [];
    this.#helperTraces.delete(id);
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
