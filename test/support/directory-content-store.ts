/**
 * A content store for the pull and push tests, with the contract of lib/images ContentStore
 * (ingest verifies digest and size and renames a complete temp file into blobs/sha256/<hex>;
 * nothing partial is ever visible). It stands in until the pull is wired to the real store.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class DirectoryContentStore {
  readonly blobs: string;
  readonly ingestDir: string;
  constructor(readonly root: string) {
    this.blobs = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
    fs.mkdirSync(this.blobs, { recursive: true });
    fs.mkdirSync(this.ingestDir, { recursive: true });
  }

  path(digest: string): string {
    return path.join(this.blobs, digest.slice('sha256:'.length));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.path(digest));
  }

  open(digest: string): Readable {
    return fs.createReadStream(this.path(digest));
  }

  list(): string[] {
    return fs.readdirSync(this.blobs).map((hex) => `sha256:${hex}`);
  }

  async ingest(source: Readable, expected: { digest: string; size: number }, signal?: AbortSignal): Promise<void> {
    const temp = path.join(this.ingestDir, `${expected.digest.slice(7)}-${crypto.randomBytes(4).toString('hex')}`);
    const hash = crypto.createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, measure, fs.createWriteStream(temp, { flags: 'wx' }), { signal });
      const digest = `sha256:${hash.digest('hex')}`;
      if (size !== expected.size || digest !== expected.digest) {
        throw new Error(`blob ${expected.digest}: got ${size} bytes hashing to ${digest}, expected ${expected.size} bytes`);
      }
      fs.renameSync(temp, this.path(expected.digest));
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
}
