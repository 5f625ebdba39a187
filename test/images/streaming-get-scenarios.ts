/**
 * The blob download's HTTP reader (lib/images/registry/streaming-get.ts) against a server that
 * writes its replies byte by byte as the case needs: each export runs in a network namespace of
 * its own (test/support/test-network.ts) and returns what the test asserts on.
 */
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { sendStreamingGet } from '../../lib/images/registry/streaming-get';

/** A reply written in pieces, with a pause between them (so each is likely a read of its own). */
type Piece = string | Buffer | { close: true };

interface Served {
  /** The request head the server got. */
  requestHead: string;
}

/** One connection: reads the request head, writes the pieces, then closes (unless told to hold). */
async function serve(pieces: Piece[], hold = false): Promise<{ url: URL; served: Promise<Served>; close: () => void }> {
  let resolveServed: (s: Served) => void = () => {};
  const served = new Promise<Served>((r) => (resolveServed = r));
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let head = '';
    socket.on('error', () => {});
    socket.on('data', async (d: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      resolveServed({ requestHead: head });
      for (const piece of pieces) {
        if (typeof piece === 'object' && !Buffer.isBuffer(piece)) {
          socket.destroy();
          return;
        }
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (!hold) socket.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/v2/some/repo/blobs/sha256:abc?x=1`),
    served,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

export interface Outcome {
  status?: number;
  headers?: Record<string, unknown>;
  bodyLength?: number;
  bodySha?: string;
  error?: { name: string; code?: string; message: string };
  requestHead?: string;
  /** Reads the body took (how many views it came in). */
  chunks?: number;
}

function sha(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Sends a GET to a server writing `pieces`; reads the whole body (slowly, when `slowReader`). */
async function exchange(pieces: Piece[], options: { headers?: Record<string, string>; slowReader?: boolean; hold?: boolean; method?: string } = {}): Promise<Outcome> {
  const server = await serve(pieces, options.hold);
  const outcome: Outcome = {};
  try {
    const response = await sendStreamingGet({ method: options.method ?? 'GET', url: server.url, headers: options.headers ?? {}, idleTimeoutMs: 10_000 });
    outcome.status = response.statusCode;
    outcome.headers = { ...response.headers };
    const chunks: Buffer[] = [];
    for await (const chunk of response) {
      // A copy: the reader's views must hold their bytes until read, whatever comes after.
      chunks.push(Buffer.from(chunk as Buffer));
      if (options.slowReader) await new Promise((r) => setTimeout(r, 2));
    }
    const body = Buffer.concat(chunks);
    outcome.bodyLength = body.length;
    outcome.bodySha = sha(body);
    outcome.chunks = chunks.length;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    outcome.error = { name: e.name, code: e.code, message: e.message };
  } finally {
    outcome.requestHead = await Promise.race([server.served.then((s) => s.requestHead), new Promise<string>((r) => setTimeout(() => r(''), 200))]);
    server.close();
  }
  return outcome;
}

/** Deterministic bytes for a body. */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export async function contentLength(): Promise<{ outcome: Outcome; expectedSha: string; expectedLength: number }> {
  const body = bytes(300_000, 1);
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: application/octet-stream\r\nDocker-Content-Digest: sha256:abc\r\n\r\n`;
  // The head split inside its blank line, the body in uneven pieces, then bytes past its end.
  const outcome = await exchange(
    [head.slice(0, head.length - 3), Buffer.concat([Buffer.from(head.slice(-3)), body.subarray(0, 7)]), body.subarray(7, 200_000), body.subarray(200_000), 'GARBAGE AFTER THE BODY'],
    { headers: { range: 'bytes=5-', authorization: 'Bearer t' }, hold: true },
  );
  return { outcome, expectedSha: sha(body), expectedLength: body.length };
}

export async function chunked(): Promise<{ outcome: Outcome; expectedSha: string }> {
  const body = bytes(70_000, 2);
  const parts = [body.subarray(0, 1), body.subarray(1, 40_000), body.subarray(40_000)];
  const encoded: Buffer[] = [];
  for (const [i, part] of parts.entries()) encoded.push(Buffer.from(`${part.length.toString(16)}${i === 1 ? ';ext=1' : ''}\r\n`), part, Buffer.from('\r\n'));
  encoded.push(Buffer.from('0\r\nX-Trailer: yes\r\n\r\n'));
  const all = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), ...encoded]);
  // Cut everywhere a cut can hurt: inside sizes, inside line ends, one byte at a time near the end.
  const pieces: Piece[] = [];
  const steps = [1, 2, 3, 4999];
  for (let at = 0, i = 0; at < all.length; i++) {
    const step = at > all.length - 40 ? 1 : steps[i % steps.length];
    pieces.push(all.subarray(at, Math.min(all.length, at + step)));
    at += step;
  }
  const outcome = await exchange(pieces, { hold: true });
  return { outcome, expectedSha: sha(body) };
}

export async function closeDelimited(): Promise<{ outcome: Outcome; expectedSha: string }> {
  const body = bytes(50_000, 3);
  const outcome = await exchange(['HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n', body.subarray(0, 10_000), body.subarray(10_000)]);
  return { outcome, expectedSha: sha(body) };
}

export async function interimReply(): Promise<Outcome> {
  return exchange(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 206 Partial Content\r\nContent-Range: bytes 3-5/6\r\nContent-Length: 3\r\n\r\nabc']);
}

export async function headers(): Promise<Outcome> {
  return exchange([
    'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="a"\r\nwww-authenticate: Basic realm="b"\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\n' +
      'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\n{}',
  ]);
}

export async function cutInTheBody(): Promise<Outcome> {
  return exchange(['HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n', bytes(30_000, 4), { close: true }]);
}

export async function closedBeforeTheReply(): Promise<Outcome> {
  return exchange([{ close: true }]);
}

export async function badChunkSize(): Promise<Outcome> {
  return exchange(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n'], { hold: true });
}

/** The bad chunk in the same segment as the head: the body fails in the read that resolves the response. */
export async function badChunkSizeWithTheHead(): Promise<Outcome> {
  return exchange(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'], { hold: true });
}

export async function notHttp(): Promise<Outcome> {
  return exchange(['SSH-2.0-OpenSSH\r\n\r\n']);
}

export async function headerWithLineBreak(): Promise<Outcome> {
  return exchange(['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], { headers: { 'x-evil': 'a\r\nInjected: 1' } });
}

export async function headRequestAndNoContent(): Promise<Outcome[]> {
  return [
    await exchange(['HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n'], { method: 'HEAD', hold: true }),
    await exchange(['HTTP/1.1 204 No Content\r\n\r\n'], { hold: true }),
  ];
}

/** 20 MiB read by a slow reader: the socket waits (back-pressure) and every byte arrives as sent, in large views. */
export async function slowReaderLargeBody(): Promise<{ outcome: Outcome; expectedSha: string; expectedLength: number }> {
  const body = bytes(20 * 1024 * 1024, 5);
  const pieces: Piece[] = [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`];
  for (let at = 0; at < body.length; at += 4 * 1024 * 1024) pieces.push(body.subarray(at, at + 4 * 1024 * 1024));
  const outcome = await exchange(pieces, { slowReader: true, hold: true });
  return { outcome, expectedSha: sha(body), expectedLength: body.length };
}
