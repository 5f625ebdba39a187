/**
 * A small HTTP proxy in front of the test registry that injects the faults a real network and
 * a real registry fleet produce: 5xx replies, connections reset before a reply or in the
 * middle of a body, and redirects of blob GETs to another origin (as registries send them to
 * their storage). It logs every request, so tests can see retries, resumes and mounts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number }
  | { kind: 'reset' }
  | { kind: 'reset-mid-body'; afterBytes: number }
  | { kind: 'redirect' }
  /** Forwards without the Range header, as a server that ignores Range answers (200, whole body). */
  | { kind: 'ignore-range' }
  /** Forwards, but replaces the reply's body with these bytes (same headers otherwise). */
  | { kind: 'body'; body: Buffer }
  /** Holds the request until `until` resolves, then forwards it. */
  | { kind: 'hold'; until: Promise<void> }
  /** Sends the first `afterBytes` of the body, then nothing more, with the connection left open (a stuck download). */
  | { kind: 'stall-mid-body'; afterBytes: number };

export interface FaultRule {
  method?: string;
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault; later ones pass. */
  times: number;
}

export interface LoggedRequest {
  /** 'proxy' for the registry's front, 'storage' for the redirect target. */
  via: 'proxy' | 'storage';
  method: string;
  path: string;
  range?: string;
  authorization: boolean;
  /** The blob a POST asked to mount (cross-repository), if any. */
  mount?: string;
  /** The fault applied, if any. */
  fault?: Fault['kind'];
}

export interface FaultProxy {
  host: string;
  log: LoggedRequest[];
  addFault(rule: FaultRule): void;
  stop(): Promise<void>;
}

function forward(registryPort: number, req: http.IncomingMessage, res: http.ServerResponse, cutAfter?: number, replaceBody?: Buffer, stall = false): void {
  const upstream = http.request(
    { host: '127.0.0.1', port: registryPort, method: req.method, path: req.url, headers: req.headers },
    (reply) => {
      if (replaceBody) {
        reply.resume();
        res.writeHead(reply.statusCode ?? 502, { ...reply.headers, 'content-length': String(replaceBody.length) });
        res.end(replaceBody);
        return;
      }
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      if (cutAfter === undefined) {
        reply.pipe(res);
        return;
      }
      let sent = 0;
      reply.on('data', (chunk: Buffer) => {
        if (sent >= cutAfter) return;
        const part = chunk.subarray(0, cutAfter - sent);
        sent += part.length;
        res.write(part);
        if (sent >= cutAfter) {
          // A stuck link: what was sent stays sent, and nothing more comes.
          if (stall) {
            reply.on('error', () => {});
            reply.destroy();
            return;
          }
          // Let the bytes go out, then cut the connection as a failing link would.
          res.socket?.end();
          setImmediate(() => res.socket?.destroy());
          reply.destroy();
        }
      });
      reply.on('end', () => {
        if (!(stall && sent >= cutAfter)) res.end();
      });
    },
  );
  upstream.on('error', () => res.socket?.destroy());
  req.pipe(upstream);
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * `storageAuthorization`: what the redirect target adds on its way to the registry, as a
 * pre-signed storage URL stands for the client's credentials (the client must not send its own).
 */
export async function startFaultProxy(registryPort: number, options: { storageAuthorization?: string } = {}): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const log: LoggedRequest[] = [];
  const entry = (via: LoggedRequest['via'], req: http.IncomingMessage, fault?: Fault): LoggedRequest => ({
    via,
    method: req.method ?? '',
    path: (req.url ?? '').split('?')[0],
    range: req.headers.range,
    authorization: Boolean(req.headers.authorization),
    mount: new URL(req.url ?? '/', 'http://proxy').searchParams.get('mount') ?? undefined,
    fault: fault?.kind,
  });

  const storage = http.createServer((req, res) => {
    log.push(entry('storage', req));
    if (options.storageAuthorization) req.headers.authorization = options.storageAuthorization;
    forward(registryPort, req, res);
  });
  const storagePort = await listen(storage);

  const proxy = http.createServer((req, res) => {
    const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === req.method) && r.path.test(req.url ?? ''));
    if (rule) rule.times--;
    const fault = rule?.fault;
    log.push(entry('proxy', req, fault));
    if (!fault) return forward(registryPort, req, res);
    switch (fault.kind) {
      case 'status':
        req.resume();
        res.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected fault\n');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'reset-mid-body':
        return forward(registryPort, req, res, fault.afterBytes);
      case 'ignore-range':
        delete req.headers.range;
        return forward(registryPort, req, res);
      case 'body':
        return forward(registryPort, req, res, undefined, fault.body);
      case 'hold':
        void fault.until.then(() => forward(registryPort, req, res));
        return;
      case 'stall-mid-body':
        return forward(registryPort, req, res, fault.afterBytes, undefined, true);
      case 'redirect':
        req.resume();
        res.writeHead(307, { location: `http://127.0.0.1:${storagePort}${req.url}` }).end();
        return;
    }
  });
  const port = await listen(proxy);
  const close = (server: http.Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    host: `127.0.0.1:${port}`,
    log,
    addFault: (rule) => rules.push(rule),
    stop: async () => {
      await close(proxy);
      await close(storage);
    },
  };
}
