/**
 * A layer blob's download handed to the layer's unpack while it arrives, so that a pull
 * unpacks as it downloads instead of after. The download goes on into the content store as
 * before (which checks its digest); the unpack reads a copy of the same bytes, and its layer
 * becomes visible only once the store has the blob (LayerStore's `commitAfter`).
 *
 * The unpack of a layer may start after its download has (another process holds the layer's
 * lock): until it asks for the bytes, they are kept in memory up to a limit. Past the limit, or
 * when the download starts in the middle of the blob (resuming a killed pull's part), or when
 * the download never starts here (another process stored the blob), the unpack reads the
 * stored blob once it is there.
 * Once the unpack reads the copy, the download waits for it (back-pressure), never the other
 * way round before that: a download never waits for an unpack that has not begun, so two
 * processes sharing blobs and layers never wait on each other in a circle.
 */
import { PassThrough, Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { holdChunk } from './read-slabs';

/** The most bytes a pull keeps in memory, over all its layers, for unpacks that have not begun. */
export const TEE_BUFFER_LIMIT = 64 * 1024 * 1024;

/** The memory the layers of one pull share for their copies. */
export class TeeBudget {
  constructor(public left = TEE_BUFFER_LIMIT) {}
}

type State =
  /** No download here yet, nobody reading. */
  | 'idle'
  /** Downloading; the bytes so far are buffered for an unpack that has not begun. */
  | 'buffering'
  /** The unpack reads the copy as it arrives. */
  | 'feeding'
  /** The unpack reads (or will read) the stored blob. */
  | 'from-store';

export class LayerTee {
  #state: State = 'idle';
  #chunks: Buffer[] = [];
  #buffered = 0;
  #downloadEnded = false;
  #reader: PassThrough | undefined;
  #stored: Promise<unknown> | undefined;
  readonly #openStored: () => Readable;
  readonly #budget: TeeBudget;

  constructor(openStored: () => Readable, budget: TeeBudget) {
    this.#openStored = openStored;
    this.#budget = budget;
  }

  /** The promise that the blob is stored (and verified): the store is read after it. */
  storedBy(stored: Promise<unknown>): void {
    this.#stored = stored;
    if (this.#state === 'from-store' && this.#reader) this.#readStore();
    // Seen by the pull; here only its outcome matters.
    stored.then(
      () => {
        if (this.#state === 'idle') this.#useStore();
      },
      (error: unknown) => this.#fail(error),
    );
  }

  /**
   * The download's stream from `offset`, passed on unchanged, with a copy of each chunk for
   * the unpack. A download that starts past byte 0 is not copied.
   */
  tap(source: Readable, offset: number): Readable {
    if (offset > 0 || this.#state !== 'idle') {
      if (this.#state === 'buffering' || this.#state === 'feeding') this.#fail(new Error('the layer download started again'));
      else this.#useStore();
      return source;
    }
    this.#state = this.#reader ? 'feeding' : 'buffering';
    const copy = new Transform({
      transform: (chunk: Buffer, _encoding, done: TransformCallback) => {
        copy.push(chunk);
        this.#copy(chunk, done);
      },
      flush: (done: TransformCallback) => {
        this.#downloadEnded = true;
        if (this.#state === 'feeding') this.#reader?.end();
        done();
      },
    });
    copy.on('close', () => {
      if (!this.#downloadEnded) this.#fail(new Error('the layer download stopped'));
    });
    pipeline(source, copy, () => {});
    return copy;
  }

  /** The unpack's source: the copy (from its first byte), or the stored blob. */
  open(): Readable {
    if (this.#reader) throw new Error('LayerTee: opened twice');
    const reader = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
    this.#reader = reader;
    if (this.#state === 'buffering') {
      this.#state = 'feeding';
      for (const chunk of this.#chunks) reader.write(chunk);
      this.#dropBuffer();
      if (this.#downloadEnded) reader.end();
    } else if (this.#state === 'from-store') {
      this.#readStore();
    }
    return reader;
  }

  /** The unpack will not read (its layer was there already): drop what was kept. */
  release(): void {
    if (this.#reader) return;
    this.#useStore();
  }

  /** The unpack's copy of a chunk: the same bytes, held for it (its gunzip lets go, read-slabs.ts). */
  #copy(chunk: Buffer, done: TransformCallback): void {
    const reader = this.#reader;
    if (this.#state === 'feeding' && reader && !reader.destroyed) {
      holdChunk(chunk);
      if (reader.write(chunk)) done();
      else {
        const go = () => {
          reader.off('drain', go).off('close', go);
          done();
        };
        reader.on('drain', go).on('close', go);
      }
      return;
    }
    if (this.#state === 'buffering') {
      if (chunk.length > this.#budget.left) this.#useStore();
      else {
        holdChunk(chunk);
        this.#chunks.push(chunk);
        this.#buffered += chunk.length;
        this.#budget.left -= chunk.length;
      }
    }
    done();
  }

  /** From now on the unpack reads the stored blob. */
  #useStore(): void {
    if (this.#state === 'feeding' || this.#state === 'from-store') return;
    this.#state = 'from-store';
    this.#dropBuffer();
    if (this.#reader) this.#readStore();
  }

  /** Forgets the kept chunks (handed to the reader, or dropped) and gives their room back. */
  #dropBuffer(): void {
    this.#budget.left += this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
  }

  /** Pipes the stored blob into the reader once it is stored (when that is not known yet: from storedBy). */
  #readStore(): void {
    const reader = this.#reader as PassThrough;
    const stored = this.#stored;
    if (!stored) return;
    stored.then(
      () => {
        if (!reader.destroyed) pipeline(this.#openStored(), reader, () => {});
      },
      (error: unknown) => reader.destroy(error as Error),
    );
  }

  #fail(error: unknown): void {
    this.#dropBuffer();
    if (this.#state === 'feeding' && !this.#downloadEnded) this.#reader?.destroy(error as Error);
    else if (this.#state !== 'feeding') this.#useStore();
  }
}
