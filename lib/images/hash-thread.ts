/**
 * SHA-256 on a worker thread, for blobs large enough to pay for it. A pull hashes each blob as
 * it downloads and each layer's tar as it unpacks, all on Node's one JavaScript thread, which
 * is what bounds a pull; moving the blob's hash to a thread of its own frees that thread
 * (a pull of 117 MB went from 1.4 s to 1.1 s without it). One worker serves the process; it
 * keeps the process alive only while a hash is open.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
    hash.update(new Uint8Array(m.buffer));
    parentPort.postMessage({ id: m.id, op: 'ack' });
  } else if (m.op === 'digest') {
    const hash = hashes.get(m.id) || createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, op: 'digest', hex: hash.digest('hex') });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
});
`;

interface Reply {
  id: number;
  op: 'ack' | 'digest';
  hex?: string;
}

let worker: Worker | undefined;
let nextId = 1;
let open = 0;
const waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }[]>();

function theWorker(): Worker {
  if (!worker) {
    const started = new Worker(WORKER_SOURCE, { eval: true });
    started.on('message', (reply: Reply) => waiting.get(reply.id)?.shift()?.resolve(reply));
    const fail = (error: Error) => {
      if (worker === started) worker = undefined;
      for (const queue of waiting.values()) for (const w of queue.splice(0)) w.reject(error);
    };
    started.on('error', fail);
    started.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)));
    started.unref();
    worker = started;
  }
  return worker;
}

/** One running SHA-256 on the worker. Updates are answered in order; `digest` ends it. */
export class ThreadHash {
  readonly #id = nextId++;
  readonly #worker = theWorker();
  #ended = false;

  constructor() {
    waiting.set(this.#id, []);
    if (open++ === 0) this.#worker.ref();
  }

  /** Hashes `chunks` (copied: the caller keeps them); resolves once the worker has. */
  update(chunks: Buffer[], bytes: number): Promise<void> {
    const buffer = new ArrayBuffer(bytes);
    const view = new Uint8Array(buffer);
    let offset = 0;
    for (const chunk of chunks) {
      view.set(chunk, offset);
      offset += chunk.length;
    }
    const acked = this.#reply();
    this.#worker.postMessage({ op: 'update', id: this.#id, buffer }, [buffer]);
    return acked.then(() => undefined);
  }

  async digest(): Promise<string> {
    const reply = this.#reply();
    this.#worker.postMessage({ op: 'digest', id: this.#id });
    try {
      return (await reply).hex as string;
    } finally {
      this.#end();
    }
  }

  /** Gives the hash up (its stream failed). */
  drop(): void {
    if (this.#ended) return;
    this.#worker.postMessage({ op: 'drop', id: this.#id });
    this.#end();
  }

  #reply(): Promise<Reply> {
    return new Promise((resolve, reject) => waiting.get(this.#id)?.push({ resolve, reject }) ?? reject(new Error('ThreadHash: ended')));
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    waiting.delete(this.#id);
    if (--open === 0) this.#worker.unref();
  }
}
