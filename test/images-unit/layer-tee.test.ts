/**
 * The hand-over of a layer's download to its unpack (layer-tee.ts) and the chunk iteration the
 * unpack reads with (stream-chunks.ts): the unpack gets the blob's bytes exactly, whether it
 * begins before, during or after the download, from memory or from the store; a failed
 * download fails the unpack that reads it; memory past the pull's budget is not kept.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LayerTee, TeeBudget } from '../../lib/images/layer-tee';
import { chunksOf } from '../../lib/images/stream-chunks';

const blob = Buffer.from(Array.from({ length: 300 }, (_, i) => `chunk ${i} `.repeat(50)).join(''));
const pieces = (bytes: Buffer, size = 4096) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

/** Buffers compared as bytes (jest's deep equality walks them element by element). */
const same = (a: Buffer, b: Buffer) => expect(a.equals(b) ? 'equal' : `differ (${a.length} vs ${b.length} bytes)`).toBe('equal');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of chunksOf(stream)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The download as the store's ingest runs it: through the tee, into a sink. Resolves to what the store got. */
async function download(tee: LayerTee, offset = 0, source: Readable = Readable.from(pieces(blob.subarray(offset)))): Promise<Buffer> {
  const got: Buffer[] = [];
  await pipeline(tee.tap(source, offset), new Writable({ write: (c: Buffer, _e, done) => (got.push(c), done()) }));
  return Buffer.concat(got);
}

/** A tee whose "store" serves `blob` and counts its opens. */
function makeTee(budget = new TeeBudget()) {
  const opens = { count: 0 };
  const tee = new LayerTee(() => {
    opens.count++;
    return Readable.from(pieces(blob));
  }, budget);
  return { tee, opens, budget };
}

describe('chunksOf', () => {
  test('yields the chunks as written, not joined into one copy', async () => {
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    for (const piece of pieces(blob)) stream.write(piece);
    stream.end();
    const sizes: number[] = [];
    for await (const chunk of chunksOf(stream)) sizes.push(chunk.length);
    expect(sizes).toEqual(pieces(blob).map((p) => p.length));
  });

  test("throws the stream's error, and destroys a stream its consumer leaves early", async () => {
    const failing = new PassThrough();
    failing.write('x');
    setImmediate(() => failing.destroy(new Error('boom')));
    await expect(readAll(failing)).rejects.toThrow('boom');
    const left = new PassThrough();
    left.write('a');
    for await (const _chunk of chunksOf(left)) break;
    expect(left.destroyed).toBe(true);
  });
});

describe('LayerTee', () => {
  test('an unpack that begins before the download reads it as it arrives; the store is not read', async () => {
    const { tee, opens } = makeTee();
    const reading = readAll(tee.open());
    const stored = download(tee);
    tee.storedBy(stored);
    same(await stored, blob);
    same(await reading, blob);
    expect(opens.count).toBe(0);
  });

  test('an unpack that begins after the download reads the copy kept in memory, and the budget gets its room back', async () => {
    const { tee, opens, budget } = makeTee();
    const stored = download(tee);
    tee.storedBy(stored);
    await stored;
    expect(budget.left).toBe(64 * 1024 * 1024 - blob.length);
    same(await readAll(tee.open()), blob);
    expect(budget.left).toBe(64 * 1024 * 1024);
    expect(opens.count).toBe(0);
  });

  test('past the budget the copy is dropped and the unpack reads the stored blob', async () => {
    const { tee, opens, budget } = makeTee(new TeeBudget(10_000));
    const stored = download(tee);
    tee.storedBy(stored);
    await stored;
    expect(budget.left).toBe(10_000);
    same(await readAll(tee.open()), blob);
    expect(opens.count).toBe(1);
  });

  test('a download resumed past byte 0 is not copied: the unpack reads the store once the blob is there', async () => {
    const { tee, opens } = makeTee();
    const reader = tee.open();
    let storedYet = false;
    const stored = download(tee, 5000).then((b) => ((storedYet = true), b));
    tee.storedBy(stored);
    const read = readAll(reader).then((b) => ({ b, storedYet }));
    same(await stored, blob.subarray(5000));
    const { b, storedYet: afterStore } = await read;
    same(b, blob);
    expect(afterStore).toBe(true);
    expect(opens.count).toBe(1);
  });

  test('a blob stored by another process (no download here): the unpack reads the store', async () => {
    const { tee, opens } = makeTee();
    tee.storedBy(Promise.resolve());
    same(await readAll(tee.open()), blob);
    expect(opens.count).toBe(1);
  });

  test('a download that fails fails the unpack reading it', async () => {
    const { tee } = makeTee();
    const reader = tee.open();
    const source = new PassThrough();
    const stored = download(tee, 0, source);
    tee.storedBy(stored);
    stored.catch(() => {});
    source.write(blob.subarray(0, 1000));
    source.destroy(new Error('connection reset'));
    await expect(readAll(reader)).rejects.toThrow();
    await expect(stored).rejects.toThrow('connection reset');
  });

  test('a layer that needs no unpack releases its copy', async () => {
    const { tee, budget } = makeTee();
    const stored = download(tee);
    tee.storedBy(stored);
    await stored;
    tee.release();
    expect(budget.left).toBe(64 * 1024 * 1024);
  });
});
