/**
 * Writes a tar archive (POSIX ustar, with a pax header for a name too long for ustar) member
 * by member to a stream, for image exports. Members are regular files and directories owned
 * by 0:0 with a fixed mtime, so that an export of one image is the same bytes every time.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

const BLOCK = 512;
const ZEROS = Buffer.alloc(BLOCK * 2);

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, typeFlag: string, mode: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(mode, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(0, 12), 136, 'latin1');
  block.write(' '.repeat(8), 148, 'latin1');
  block.write(typeFlag, 156, 'latin1');
  block.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'latin1');
  return block;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  // The length counts its own digits.
  while (Buffer.byteLength(`${length}${body}`) !== length) length = Buffer.byteLength(`${length}${body}`);
  return `${length}${body}`;
}

export class TarWriter {
  readonly #out: Writable;

  constructor(out: Writable) {
    this.#out = out;
  }

  async #write(chunk: Buffer): Promise<void> {
    if (!this.#out.write(chunk)) await once(this.#out, 'drain');
  }

  async #header(name: string, size: number, typeFlag: string, mode: number): Promise<void> {
    if (Buffer.byteLength(name) > 100) {
      const pax = Buffer.from(paxRecord('path', name));
      await this.#write(header('PaxHeaders/' + name.slice(-80).replace(/^\/+/, ''), pax.length, 'x', 0o644));
      await this.#write(pax);
      await this.#pad(pax.length);
    }
    await this.#write(header(name, size, typeFlag, mode));
  }

  async #pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest !== 0) await this.#write(ZEROS.subarray(0, BLOCK - rest));
  }

  async directory(name: string): Promise<void> {
    await this.#header(name.endsWith('/') ? name : `${name}/`, 0, '5', 0o755);
  }

  /** A file from bytes in memory. */
  async file(name: string, data: Buffer): Promise<void> {
    await this.#header(name, data.length, '0', 0o644);
    await this.#write(data);
    await this.#pad(data.length);
  }

  /** A file of exactly `size` bytes from a stream; a stream of another length is an error (the archive would be corrupt). */
  async fileFromStream(name: string, size: number, source: Readable): Promise<void> {
    await this.#header(name, size, '0', 0o644);
    let written = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > size) break;
      await this.#write(chunk);
    }
    if (written !== size) {
      source.destroy();
      throw new Error(`tar member ${name}: the source gave ${written > size ? 'more' : written} bytes, not ${size}`);
    }
    await this.#pad(size);
  }

  /** The two zero blocks that end an archive; then the stream is ended and flushed. */
  async finish(): Promise<void> {
    await this.#write(ZEROS);
    this.#out.end();
    await once(this.#out, 'finish');
  }
}
