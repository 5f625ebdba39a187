/**
 * ContentStore.readBytesSync: the manifests and configs a Container's constructor reads to
 * resolve its image. A blob's bytes never change under its name, so the second read of one
 * comes from memory: each read still gets bytes of its own, and the size limit holds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContentStore } from '../../lib/images/content-store';
import { ImageArchiveError } from '../../lib/errors/errors';

let dataRoot: string;

beforeEach(() => {
  dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-content-read-'));
});

afterEach(() => {
  fs.rmSync(dataRoot, { recursive: true, force: true });
});

test('a stored blob reads back whole, each read a copy of its own', async () => {
  const store = new ContentStore(dataRoot);
  await store.prepare();
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, note: 'x'.repeat(100) }));
  const { digest } = await store.ingestBytes(bytes);
  const first = store.readBytesSync(digest);
  expect(first.equals(bytes)).toBe(true);
  first.fill(0);
  const second = store.readBytesSync(digest);
  expect(second.equals(bytes)).toBe(true);
  second.fill(1);
  expect(store.readBytesSync(digest).equals(bytes)).toBe(true);
  // Another store over the same data root reads the same bytes.
  expect(new ContentStore(dataRoot).readBytesSync(digest).equals(bytes)).toBe(true);
});

test('the size limit holds for a blob read before, and a missing blob is an ImageArchiveError', async () => {
  const store = new ContentStore(dataRoot);
  await store.prepare();
  const { digest } = await store.ingestBytes(Buffer.from('{"a":"' + 'y'.repeat(200) + '"}'));
  expect(store.readBytesSync(digest).length).toBeGreaterThan(200);
  expect(() => store.readBytesSync(digest, 100)).toThrow(ImageArchiveError);
  const missing = `sha256:${'0'.repeat(64)}`;
  expect(() => store.readBytesSync(missing)).toThrow(ImageArchiveError);
});
