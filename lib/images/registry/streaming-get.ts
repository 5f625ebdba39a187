/**
 * A GET whose body is large (a blob download), on a connection of its own, read straight into
 * 1 MiB buffers (the socket's `onread` option). Node's http client allocates a Buffer for
 * every 64 KiB socket read and runs its parser and stream steps on each: over a pull's hundreds
 * of megabytes that costs the JavaScript thread more than any other step of the download, and
 * the garbage drives the collector. Here a read fills the rest of the current buffer; the body
 * goes out as views of it, 16 or more reads per buffer. The buffers are read-slabs.ts's: used
 * again once the stages that read the body let go of its views.
 *
 * HTTP/1.1 as a registry speaks it: a status line and headers, then a body framed by
 * Content-Length, by chunked transfer coding, or by the end of the connection; 1xx replies
 * are skipped. The response is a Readable with `statusCode` and `headers` as IncomingMessage
 * has them, so the registry client treats it as it treats one of Node's.
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import * as tls from 'node:tls';
import type { HttpRequest } from './http-request';
import { secureContextFor } from './trust';
import { ReadSlab, SLAB_BYTES, slabReader } from '../read-slabs';

/** What the registry client reads of a response (IncomingMessage has it, and so does StreamingResponse). */
export type HttpResponse = Readable & { statusCode?: number; headers: IncomingHttpHeaders };

/** A new read buffer (of SLAB_BYTES) is taken once less than READ_MIN_BYTES of the current one is left. */
const READ_MIN_BYTES = 64 * 1024;
/** A status line and headers longer than this are refused (Node's own limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
/** Headers Node's IncomingMessage keeps once (the first wins); others repeat joined by ", ". */
const SINGLE_HEADERS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

function networkError(message: string, code: string): NodeJS.ErrnoException {
  const error = new Error(message) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

/** The body's framing, once the head is read. */
type Framing = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

class StreamingResponse extends Readable {
  statusCode?: number;
  headers: IncomingHttpHeaders = {};
  constructor(private readonly socket: net.Socket) {
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  /** More is wanted: a socket that `onread` stopped reads again (a no-op while it reads). */
  override _read(): void {
    this.socket.resume();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }
}

/** Sends a GET (no request body) and resolves to the response once its head is in. */
export function sendStreamingGet(request: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const { url } = request;
    // The buffer reads go into: taken at the first read (the socket exists by then).
    let slab: ReadSlab | undefined;
    let used = 0;
    const onread = {
      buffer: () => {
        if (!slab || SLAB_BYTES - used < READ_MIN_BYTES) {
          slab?.done();
          slab = new ReadSlab();
          used = 0;
        }
        return slab.buffer.subarray(used);
      },
      callback: (n: number, into: Uint8Array) => {
        used += n;
        return received((into as Buffer).subarray(0, n));
      },
    };
    for (const [name, value] of Object.entries(request.headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
        reject(new TypeError(`header ${JSON.stringify(name)}: a line break is not allowed`));
        return;
      }
    }
    const https = url.protocol === 'https:';
    const port = Number(url.port || (https ? 443 : 80));
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = https
      ? tls.connect({
          host,
          port,
          servername: net.isIP(host) ? undefined : host,
          secureContext: request.ca ? secureContextFor(request.ca) : undefined,
          onread,
        } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    const readerDone = slabReader();
    socket.once('close', () => {
      // No read comes into the slab any more.
      slab?.done();
      readerDone();
    });
    const response = new StreamingResponse(socket);
    let headSeen = false;
    let head: Buffer[] = [];
    let headBytes = 0;
    let framing: Framing = { kind: 'close' };
    let ended = false;
    const chunked = new ChunkedDecoder();

    let rejected = false;
    const fail = (error: Error) => {
      if (!headSeen) {
        if (rejected) return;
        rejected = true;
        socket.destroy();
        reject(error);
      } else if (!ended) {
        ended = true;
        // The body may fail in the very read that brought the head, before whoever awaits
        // the response has had a turn to read it (and listen for 'error'): that turn first.
        socket.pause();
        setImmediate(() => response.destroy(error));
      }
    };
    const finish = () => {
      if (ended) return;
      ended = true;
      response.push(null);
      socket.destroy();
    };
    const onAbort = () => fail(request.signal?.reason instanceof Error ? request.signal.reason : Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    if (request.signal?.aborted) {
      onAbort();
      return;
    }
    request.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => request.signal?.removeEventListener('abort', onAbort));

    /** Body bytes as they go out: views of the slab, held by the response's reader. */
    const handOn = (bytes: Buffer): Buffer => (slab ? slab.handOn(bytes) : bytes);

    /** Body bytes: pushed as they are (views of the read buffer). False asks the socket to wait. */
    const body = (bytes: Buffer): boolean => {
      if (ended || bytes.length === 0) return true;
      if (framing.kind === 'close') return response.push(handOn(bytes));
      if (framing.kind === 'length') {
        const take = bytes.subarray(0, framing.left);
        framing.left -= take.length;
        const more = take.length > 0 ? response.push(handOn(take)) : true;
        if (framing.left === 0) finish();
        return more;
      }
      let more = true;
      try {
        chunked.feed(bytes, (data) => {
          more = response.push(handOn(data)) && more;
        });
      } catch (error) {
        fail(error as Error);
        return true;
      }
      if (chunked.done) finish();
      return more;
    };

    /** The head's bytes until the blank line; what follows is body. */
    const received = (bytes: Buffer): boolean => {
      if (headSeen) return body(bytes);
      // The head is small: its bytes are copied, the read buffer is not held.
      head.push(Buffer.from(bytes));
      headBytes += bytes.length;
      const all = head.length === 1 ? head[0] : Buffer.concat(head);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        if (headBytes > MAX_HEAD_BYTES) fail(networkError(`${url.host}: a reply head of more than ${MAX_HEAD_BYTES} bytes`, 'HPE_HEADER_OVERFLOW'));
        else head = [all];
        return true;
      }
      let parsed: { status: number; headers: IncomingHttpHeaders };
      try {
        parsed = parseHead(all.subarray(0, end).toString('latin1'), url.host);
      } catch (error) {
        fail(error as Error);
        return true;
      }
      const rest = bytes.subarray(bytes.length - (all.length - end - 4));
      head = [];
      headBytes = 0;
      // An interim reply (100 Continue): the real one follows.
      if (parsed.status >= 100 && parsed.status < 200) return rest.length > 0 ? received(Buffer.from(rest)) : true;
      headSeen = true;
      response.statusCode = parsed.status;
      response.headers = parsed.headers;
      const length = Number(parsed.headers['content-length']);
      if (parsed.status === 204 || parsed.status === 304 || request.method === 'HEAD') framing = { kind: 'length', left: 0 };
      else if (/\bchunked\b/i.test(String(parsed.headers['transfer-encoding'] ?? ''))) framing = { kind: 'chunked' };
      else if (parsed.headers['content-length'] !== undefined && Number.isSafeInteger(length) && length >= 0) framing = { kind: 'length', left: length };
      else framing = { kind: 'close' };
      resolve(response);
      if (framing.kind === 'length' && framing.left === 0) {
        finish();
        return true;
      }
      return body(rest);
    };

    socket.setTimeout(request.idleTimeoutMs, () => fail(networkError(`no reply from ${url.host} in ${request.idleTimeoutMs} ms`, 'ETIMEDOUT')));
    socket.once(https ? 'secureConnect' : 'connect', () => {
      const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: close'];
      for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('error', (error) => fail(error));
    socket.on('end', () => {
      if (headSeen && framing.kind === 'close') finish();
    });
    socket.on('close', () => {
      if (response.destroyed || rejected) return;
      if (!headSeen) fail(networkError(`${url.host} closed the connection before its reply`, 'ECONNRESET'));
      else if (!ended) fail(networkError(`${url.host} closed the connection in the middle of the reply body`, 'ECONNRESET'));
    });
  });
}

/** The status and headers of a reply head (without its blank line), as IncomingMessage gives them. */
function parseHead(text: string, host: string): { status: number; headers: IncomingHttpHeaders } {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
  if (!status) throw networkError(`${host}: not an HTTP/1.1 reply (${JSON.stringify(lines[0].slice(0, 40))})`, 'HPE_INVALID_CONSTANT');
  const headers: Record<string, string | string[]> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw networkError(`${host}: a malformed reply header (${JSON.stringify(line.slice(0, 40))})`, 'HPE_INVALID_HEADER_TOKEN');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers[name];
    if (name === 'set-cookie') headers[name] = [...((before as string[] | undefined) ?? []), value];
    else if (before === undefined) headers[name] = value;
    else if (!SINGLE_HEADERS.has(name)) headers[name] = `${before as string}, ${value}`;
  }
  return { status: Number(status[1]), headers: headers as IncomingHttpHeaders };
}

/** Chunked transfer coding: sizes in hex, each chunk's data, CRLF; a 0 chunk, trailers, a blank line. */
export class ChunkedDecoder {
  #state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  #line = '';
  #left = 0;
  done = false;

  /** Gives the data in `bytes` to `data` (views, no copy); throws on malformed framing. */
  feed(bytes: Buffer, data: (bytes: Buffer) => void): void {
    let at = 0;
    while (at < bytes.length && !this.done) {
      if (this.#state === 'data') {
        const take = Math.min(this.#left, bytes.length - at);
        data(bytes.subarray(at, at + take));
        at += take;
        this.#left -= take;
        if (this.#left === 0) this.#state = 'data-end';
        continue;
      }
      const newline = bytes.indexOf(10, at);
      const end = newline < 0 ? bytes.length : newline;
      this.#line += bytes.toString('latin1', at, end);
      if (this.#line.length > 4096) throw networkError('a chunk size line of more than 4096 bytes', 'HPE_INVALID_CHUNK_SIZE');
      at = end;
      if (newline < 0) break;
      at++;
      const line = this.#line.replace(/\r$/, '');
      this.#line = '';
      if (this.#state === 'data-end') {
        if (line !== '') throw networkError('no line end after a chunk', 'HPE_INVALID_CHUNK_SIZE');
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(line);
        if (!size) throw networkError(`not a chunk size: ${JSON.stringify(line.slice(0, 40))}`, 'HPE_INVALID_CHUNK_SIZE');
        this.#left = Number.parseInt(size[1], 16);
        this.#state = this.#left === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.done = true;
      }
    }
  }
}
