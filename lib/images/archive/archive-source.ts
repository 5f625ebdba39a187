/**
 * What an importer reads an image from: named members of a tar archive, or files of an OCI
 * layout directory. The readers (OCI layout, docker-archive) see only this, so an oci-archive
 * and a layout directory are read by the same code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ImageArchiveError } from '../../errors/errors';
import { TarIndex, memberKey } from './tar-index';

export interface ArchiveSource {
  /** The archive or directory, for messages. */
  readonly location: string;
  has(name: string): Promise<boolean>;
  /** The member's size; ImageArchiveError naming it when it is missing. */
  size(name: string): Promise<number>;
  /** A small member's bytes (JSON); ImageArchiveError when missing or larger than `maxBytes`. */
  readFile(name: string, maxBytes: number): Promise<Buffer>;
  open(name: string): Promise<Readable>;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function tooLarge(name: string, size: number, maxBytes: number): ImageArchiveError {
  return new ImageArchiveError(name, `${size} bytes, more than the ${maxBytes} this member may have`);
}

/** A tar archive (docker-archive, oci-archive), read by offsets. */
export class TarSource implements ArchiveSource {
  readonly location: string;
  readonly #index: TarIndex;

  private constructor(location: string, index: TarIndex) {
    this.location = location;
    this.#index = index;
  }

  static async open(file: string): Promise<TarSource> {
    return new TarSource(file, await TarIndex.open(file));
  }

  #member(name: string) {
    const member = this.#index.resolve(name);
    if (!member) throw new ImageArchiveError(name, `missing from the archive ${this.location}`);
    return member;
  }

  async has(name: string): Promise<boolean> {
    return this.#index.resolve(name) !== undefined;
  }

  async size(name: string): Promise<number> {
    return this.#member(name).size;
  }

  async readFile(name: string, maxBytes: number): Promise<Buffer> {
    const member = this.#member(name);
    if (member.size > maxBytes) throw tooLarge(name, member.size, maxBytes);
    return collect(this.#index.read(member));
  }

  async open(name: string): Promise<Readable> {
    return this.#index.read(this.#member(name));
  }
}

/** An OCI layout directory. Names are kept inside it: "..", absolute names and links out are refused. */
export class DirectorySource implements ArchiveSource {
  readonly location: string;

  constructor(dir: string) {
    this.location = dir;
  }

  async #path(name: string): Promise<string> {
    const key = memberKey(name);
    if (key === '..' || key.startsWith('../') || path.isAbsolute(name)) throw new ImageArchiveError(name, 'a name outside the layout directory');
    const file = path.join(this.location, key);
    let real: string;
    try {
      real = await fs.promises.realpath(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageArchiveError(name, `missing from the layout ${this.location}`);
      throw error;
    }
    const root = await fs.promises.realpath(this.location);
    if (real !== root && !real.startsWith(root + path.sep)) throw new ImageArchiveError(name, 'leads out of the layout directory through a link');
    return real;
  }

  async has(name: string): Promise<boolean> {
    try {
      return (await fs.promises.stat(await this.#path(name))).isFile();
    } catch (error) {
      if (error instanceof ImageArchiveError) return false;
      throw error;
    }
  }

  async size(name: string): Promise<number> {
    const stat = await fs.promises.stat(await this.#path(name));
    if (!stat.isFile()) throw new ImageArchiveError(name, 'not a regular file');
    return stat.size;
  }

  async readFile(name: string, maxBytes: number): Promise<Buffer> {
    const size = await this.size(name);
    if (size > maxBytes) throw tooLarge(name, size, maxBytes);
    return fs.promises.readFile(await this.#path(name));
  }

  async open(name: string): Promise<Readable> {
    return fs.createReadStream(await this.#path(name));
  }
}
