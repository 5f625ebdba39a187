/**
 * The blob download's own HTTP reader: every framing a registry (or the storage it redirects
 * to) may use, and every way a reply can break off, against a server in a network namespace of
 * the test's own (streaming-get-scenarios.ts). The real registry's downloads through it are
 * proved by registry-pull.test.ts (faults, resume with Range, redirects, TLS).
 */
import * as path from 'node:path';
import { runInTestNetwork } from '../support/test-network';
import type * as scenarios from './streaming-get-scenarios';

const SCENARIOS = path.join(__dirname, 'streaming-get-scenarios.ts');
type Result<K extends keyof typeof scenarios> = Awaited<ReturnType<(typeof scenarios)[K]>>;
const run = <K extends keyof typeof scenarios>(name: K) => runInTestNetwork<Result<K>>(SCENARIOS, name);

jest.setTimeout(120_000);

test('Content-Length: the body exactly, its head split across reads, nothing past its end; the request as asked', async () => {
  const { outcome, expectedSha, expectedLength } = await run('contentLength');
  expect(outcome.error).toBeUndefined();
  expect(outcome.status).toBe(200);
  expect(outcome.headers).toMatchObject({ 'content-length': String(expectedLength), 'content-type': 'application/octet-stream', 'docker-content-digest': 'sha256:abc' });
  expect(outcome.bodyLength).toBe(expectedLength);
  expect(outcome.bodySha).toBe(expectedSha);
  const lines = (outcome.requestHead ?? '').split('\r\n');
  expect(lines[0]).toBe('GET /v2/some/repo/blobs/sha256:abc?x=1 HTTP/1.1');
  expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^host: 127\.0\.0\.1:\d+$/), 'connection: close', 'range: bytes=5-', 'authorization: Bearer t']));
});

test('chunked transfer coding, cut inside sizes and line ends, with an extension and a trailer', async () => {
  const { outcome, expectedSha } = await run('chunked');
  expect(outcome.error).toBeUndefined();
  expect(outcome.bodyLength).toBe(70_000);
  expect(outcome.bodySha).toBe(expectedSha);
});

test('a body that ends with the connection', async () => {
  const { outcome, expectedSha } = await run('closeDelimited');
  expect(outcome.error).toBeUndefined();
  expect(outcome.bodySha).toBe(expectedSha);
});

test('an interim 100 reply is passed over for the real one', async () => {
  const outcome = await run('interimReply');
  expect(outcome.status).toBe(206);
  expect(outcome.headers?.['content-range']).toBe('bytes 3-5/6');
  expect(outcome.bodyLength).toBe(3);
});

test('repeated headers as IncomingMessage gives them: joined, first wins, or a list', async () => {
  const outcome = await run('headers');
  expect(outcome.status).toBe(401);
  expect(outcome.headers).toMatchObject({
    'www-authenticate': 'Bearer realm="a", Basic realm="b"',
    'content-type': 'application/json',
    'set-cookie': ['a=1', 'b=2'],
  });
  expect(outcome.bodyLength).toBe(2);
});

test('a reply cut in its body fails with ECONNRESET (retried, then resumed with Range, by the client)', async () => {
  const outcome = await run('cutInTheBody');
  expect(outcome.status).toBe(200);
  expect(outcome.error).toMatchObject({ code: 'ECONNRESET' });
});

test('a connection closed before any reply rejects with ECONNRESET', async () => {
  const outcome = await run('closedBeforeTheReply');
  expect(outcome.status).toBeUndefined();
  expect(outcome.error).toMatchObject({ code: 'ECONNRESET' });
});

test('a malformed chunk size, or a reply that is not HTTP, is an error, not data', async () => {
  const bad = await run('badChunkSize');
  expect(bad.error).toMatchObject({ code: 'HPE_INVALID_CHUNK_SIZE' });
  expect(bad.bodySha).toBeUndefined();
  // In the read that brought the head: still an error the reader gets, not an uncaught one.
  const withHead = await run('badChunkSizeWithTheHead');
  expect(withHead.status).toBe(200);
  expect(withHead.error).toMatchObject({ code: 'HPE_INVALID_CHUNK_SIZE' });
  const notHttp = await run('notHttp');
  expect(notHttp.error).toMatchObject({ code: 'HPE_INVALID_CONSTANT' });
});

test('a header value with a line break is refused before anything is sent', async () => {
  const outcome = await run('headerWithLineBreak');
  expect(outcome.error?.name).toBe('TypeError');
  expect(outcome.requestHead ?? '').not.toContain('Injected');
});

test('HEAD and 204 have no body, whatever Content-Length says', async () => {
  const [head, noContent] = await run('headRequestAndNoContent');
  expect(head).toMatchObject({ status: 200, bodyLength: 0 });
  expect(noContent).toMatchObject({ status: 204, bodyLength: 0 });
});

test('20 MiB to a slow reader: every byte as sent, in views of large reads', async () => {
  const { outcome, expectedSha, expectedLength } = await run('slowReaderLargeBody');
  expect(outcome.error).toBeUndefined();
  expect(outcome.bodyLength).toBe(expectedLength);
  expect(outcome.bodySha).toBe(expectedSha);
  // Far fewer than the 320 a 64 KiB read each would give.
  expect(outcome.chunks).toBeLessThan(320);
});
