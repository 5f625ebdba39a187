/**
 * Pull progress as docker pull shows it: on a terminal one line per layer, redrawn in place
 * with a bar; on a pipe or file one plain line each time a layer enters a phase, so that a log
 * reads as a record, not as a stream of carriage returns.
 */
import type { PullProgressEvent } from './store';

export interface ProgressOutput {
  write(s: string): unknown;
  /** A terminal (stream.isTTY): bars drawn in place. */
  isTTY?: boolean;
  columns?: number;
}

/** The first 12 hex digits of a layer digest, as docker names layers. */
export function shortLayer(digest: string): string {
  return digest.replace(/^[a-z0-9]+:/, '').slice(0, 12);
}

const PHASE_TEXT: Record<PullProgressEvent['phase'], string> = {
  download: 'Downloading',
  verify: 'Verifying',
  unpack: 'Extracting',
  done: 'Pull complete',
};

function humanBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}MB`;
  return `${(n / 1e9).toFixed(2)}GB`;
}

/** `[=====>     ]  1.2MB/3.4MB`: the bar docker draws for a phase with a known total. */
export function progressBar(bytes: number, total: number, width = 30): string {
  if (total <= 0) return humanBytes(bytes);
  const done = Math.min(width, Math.floor((bytes / total) * width));
  const bar = done >= width ? '='.repeat(width) : `${'='.repeat(done)}>${' '.repeat(width - done - 1)}`;
  return `[${bar}]  ${humanBytes(bytes)}/${humanBytes(total)}`;
}

/** Feed it every event; call `end()` once the pull is over. */
export class PullProgressView {
  readonly #out: ProgressOutput;
  readonly #tty: boolean;
  /** Layers in the order they first reported, with their last line. */
  readonly #lines = new Map<string, string>();
  readonly #phases = new Map<string, PullProgressEvent['phase']>();
  #drawn = 0;

  constructor(out: ProgressOutput) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  onEvent = (event: PullProgressEvent): void => {
    const name = shortLayer(event.layer);
    if (!this.#tty) {
      // One line per phase entered: byte counts go in the line that closes it.
      if (this.#phases.get(name) === event.phase) return;
      this.#phases.set(name, event.phase);
      const size = event.phase === 'done' ? '' : ` ${humanBytes(event.total)}`;
      this.#out.write(`${name}: ${PHASE_TEXT[event.phase]}${size}\n`);
      return;
    }
    const detail = event.phase === 'done' ? '' : ` ${progressBar(event.bytes, event.total)}`;
    this.#lines.set(name, `${name}: ${PHASE_TEXT[event.phase]}${detail}`);
    this.#redraw();
  };

  #redraw(): void {
    const width = (this.#out.columns ?? 80) - 1;
    // Up to the first line drawn, then every line again, each cleared to its end.
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const line of this.#lines.values()) text += `\r\x1b[2K${line.slice(0, width)}\n`;
    this.#drawn = this.#lines.size;
    this.#out.write(text);
  }

  end(): void {
    this.#lines.clear();
    this.#drawn = 0;
  }
}
