/**
 * Leases: what an import (or a pull) has stored and not yet listed as an image. A blob or
 * layer that no image names is garbage to prune and remove, except while a live lease names
 * it. A lease is a file under images/leases/ that its owner holds a flock on: the owner adds
 * each digest or chain id before storing it, and removes the file once the image is listed
 * (or the import failed). A lease whose owner died is unlocked, and the next collection
 * removes it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';

function leasesDir(imagesDir: string): string {
  return path.join(imagesDir, 'leases');
}

export class Lease {
  readonly #file: string;
  readonly #handle: fs.promises.FileHandle;
  readonly #held = new Set<string>();

  private constructor(file: string, handle: fs.promises.FileHandle) {
    this.#file = file;
    this.#handle = handle;
  }

  /** A new lease, held by this process. */
  static async take(imagesDir: string): Promise<Lease> {
    const dir = leasesDir(imagesDir);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    for (;;) {
      const file = path.join(dir, `${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
      const handle = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_APPEND, 0o600);
      // A collector may have taken the new file for a dead owner's between the open and the lock.
      if (native().tryLock(handle.fd) && (await handle.stat()).nlink > 0) return new Lease(file, handle);
      await handle.close();
    }
  }

  /** Names blobs (digests) or layers (chain ids) as this lease's, before they are stored. */
  async add(...ids: string[]): Promise<void> {
    const fresh = ids.filter((id) => !this.#held.has(id));
    if (fresh.length === 0) return;
    await this.#handle.write(fresh.map((id) => `${id}\n`).join(''));
    for (const id of fresh) this.#held.add(id);
  }

  #released = false;

  /** Ends the lease (again: nothing). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await fs.promises.rm(this.#file, { force: true });
    await this.#handle.close();
  }
}

/** Everything live leases name; the files of dead owners are removed on the way. */
export async function leasedIds(imagesDir: string): Promise<Set<string>> {
  const dir = leasesDir(imagesDir);
  const ids = new Set<string>();
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ids;
    throw error;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      continue;
    }
    try {
      if (native().tryLock(handle.fd)) {
        await fs.promises.rm(file, { force: true });
        continue;
      }
      for (const line of (await handle.readFile('utf8')).split('\n')) if (line) ids.add(line);
    } finally {
      await handle.close();
    }
  }
  return ids;
}
