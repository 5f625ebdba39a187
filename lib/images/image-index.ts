/**
 * images/index.json: the list of images, each a manifest digest with the references that name
 * it. It is an OCI image index (the images directory reads as an OCI layout: `skopeo inspect
 * oci:<dataRoot>/images:<reference>` works), one descriptor per reference, and one without a
 * name for an image that has none. Changes are made under a flock of images/index.lock and
 * written to a temporary file that is renamed over index.json: readers never take the lock
 * and never see half a list; a writer killed at any step leaves the old list or the new one.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerStateIOError } from '../errors/errors';
import { isDigest } from './digest';
import { withFileLock } from './file-lock';
import { OCI_INDEX } from './media-types';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** When the image came into this store (import, pull, commit). */
export const ADDED_ANNOTATION = 'io.ts-container.added';

export interface ImageRecord {
  /** The manifest digest. */
  digest: string;
  mediaType: string;
  size: number;
  /** Full, normalized references, in the order they were given. */
  references: string[];
  /** ISO time it was added. */
  added: string;
}

interface IndexDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const LAYOUT_FILE = '{"imageLayoutVersion":"1.0.0"}';

export class ImageIndexFile {
  readonly #dir: string;
  readonly #file: string;
  readonly #lockFile: string;

  /** `imagesDir`: <dataRoot>/images (made by the content store's prepare()). */
  constructor(imagesDir: string) {
    this.#dir = imagesDir;
    this.#file = path.join(imagesDir, 'index.json');
    this.#lockFile = path.join(imagesDir, 'index.lock');
  }

  /** The images as last written; an empty list for a store that has none yet. */
  /** read() for a caller that cannot wait (a Container's constructor resolving its image). */
  readSync(): ImageRecord[] {
    let text: string;
    try {
      text = fs.readFileSync(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ContainerStateIOError('read the image list', this.#file, error as NodeJS.ErrnoException);
    }
    return fromIndex(JSON.parse(text), this.#file);
  }

  async read(): Promise<ImageRecord[]> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ContainerStateIOError('read the image list', this.#file, error as NodeJS.ErrnoException);
    }
    return fromIndex(JSON.parse(text), this.#file);
  }

  /**
   * Runs `change` on the current list under the lock and writes what it returns (unless it
   * returns the same array untouched). Resolves to `change`'s result.
   */
  async update<T>(change: (images: ImageRecord[]) => Promise<{ images: ImageRecord[]; result: T }> | { images: ImageRecord[]; result: T }): Promise<T> {
    return withFileLock(this.#lockFile, async () => {
      await this.#removeStaleTemporaries();
      const before = await this.read();
      const { images, result } = await change(before.map((r) => ({ ...r, references: [...r.references] })));
      await this.#write(images);
      return result;
    });
  }

  /** Runs `fn` while holding the list's lock, writing nothing (prune and remove read under it). */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.#lockFile, fn);
  }

  async #removeStaleTemporaries(): Promise<void> {
    // Only the lock holder writes temporaries: any present now belong to a writer that died.
    for (const name of await fs.promises.readdir(this.#dir)) {
      if (name.startsWith('index.json.') && name.endsWith('.tmp')) await fs.promises.rm(path.join(this.#dir, name), { force: true });
    }
  }

  async #write(images: ImageRecord[]): Promise<void> {
    const temporary = `${this.#file}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await fs.promises.open(temporary, 'wx', 0o644);
      try {
        await handle.writeFile(JSON.stringify(toIndex(images), null, 2) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.writeFile(path.join(this.#dir, 'oci-layout'), LAYOUT_FILE).catch(() => undefined);
      await fs.promises.rename(temporary, this.#file);
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      const e = error as NodeJS.ErrnoException;
      if (typeof e.code === 'string') throw new ContainerStateIOError('write the image list', this.#file, e);
      throw error;
    }
  }
}

function toIndex(images: ImageRecord[]): object {
  const manifests: IndexDescriptor[] = [];
  for (const image of images) {
    const base = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    const names: (string | undefined)[] = image.references.length > 0 ? image.references : [undefined];
    for (const name of names) {
      manifests.push({ ...base, annotations: { ...(name === undefined ? {} : { [REF_NAME_ANNOTATION]: name }), [ADDED_ANNOTATION]: image.added } });
    }
  }
  return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
}

function fromIndex(json: unknown, file: string): ImageRecord[] {
  const manifests = (json as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) {
    throw new ContainerStateIOError('read the image list', file, Object.assign(new Error('no manifests list'), { code: 'EINVAL' }));
  }
  const byDigest = new Map<string, ImageRecord>();
  for (const m of manifests as IndexDescriptor[]) {
    if (!m || !isDigest(m.digest)) continue;
    let record = byDigest.get(m.digest);
    if (!record) {
      record = { digest: m.digest, mediaType: m.mediaType, size: m.size, references: [], added: m.annotations?.[ADDED_ANNOTATION] ?? '' };
      byDigest.set(m.digest, record);
    }
    const name = m.annotations?.[REF_NAME_ANNOTATION];
    if (name !== undefined && !record.references.includes(name)) record.references.push(name);
  }
  return [...byDigest.values()];
}
