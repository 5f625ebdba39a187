/**
 * One HTTP exchange with a registry (no retries, no redirects, no auth: client.ts decides those):
 * resolves to the response with its body still unread, rejects on a network error.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { secureContextFor } from './trust';

export interface HttpRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** A buffer, or a stream that is read once (the caller re-opens it for a retry). */
  body?: Buffer | Readable;
  /** CA certificates for https. */
  ca?: string[];
  signal?: AbortSignal;
  /** A socket idle this long fails the request with ETIMEDOUT. */
  idleTimeoutMs: number;
}

export function sendHttpRequest(request: HttpRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { url } = request;
    const headers: Record<string, string | number> = { ...request.headers };
    if (Buffer.isBuffer(request.body)) headers['content-length'] = request.body.length;
    else if (!request.body && !['GET', 'HEAD'].includes(request.method)) headers['content-length'] = 0;
    const options: https.RequestOptions = {
      method: request.method,
      headers,
      signal: request.signal,
      // One connection per request: a reset or a redirect never leaves a pooled socket in a bad state.
      agent: false,
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, {
            ...options,
            // (tls.connect takes it; https.RequestOptions does not declare it)
            ...({ secureContext: request.ca ? secureContextFor(request.ca) : undefined } as https.RequestOptions),
            servername: net.isIP(url.hostname) ? undefined : url.hostname,
          })
        : http.request(url, options);
    req.setTimeout(request.idleTimeoutMs, () => {
      const error = new Error(`no reply from ${url.host} in ${request.idleTimeoutMs} ms`) as NodeJS.ErrnoException;
      error.code = 'ETIMEDOUT';
      req.destroy(error);
    });
    req.once('response', (response) => {
      // The same idle limit applies while the body streams.
      response.socket.setTimeout(request.idleTimeoutMs);
      resolve(response);
    });
    req.once('error', reject);
    if (request.body instanceof Readable) {
      request.body.once('error', (error) => req.destroy(error));
      request.body.pipe(req);
    } else {
      req.end(request.body);
    }
  });
}

/** The whole body, up to `limit` bytes (a larger one is an error: manifests and tokens are small). */
export async function readBody(response: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      response.destroy();
      throw new Error(`reply body larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads and drops the body so the exchange ends cleanly. */
export function discardBody(response: Readable): void {
  response.resume();
  response.on('error', () => {});
}
