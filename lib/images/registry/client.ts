/**
 * A client of one registry, speaking the distribution API (OCI distribution spec, docker's v2):
 * every request goes through `request`, which adds authorization (Bearer tokens got from the
 * realm of the registry's challenge, anonymously or with credentials; or basic auth), follows
 * redirects (dropping the registry's authorization on another host), and retries 5xx replies
 * and network failures with back-off. Blob bodies resume with Range after an interruption.
 */
import * as crypto from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { RegistryError } from '../../errors/errors';
import { parseAuthChallenges, type AuthChallenge } from './auth-challenge';
import { credentialsFor, type RegistryCredentials } from './credentials';
import { registryEndpoint, type RegistryEndpoint } from './endpoint';
import { discardBody, readBody, sendHttpRequest } from './http-request';
import { sendStreamingGet, type HttpResponse } from './streaming-get';
import { backOff, DEFAULT_RETRY, isRetryableNetworkError, isRetryableStatus, type RetryPolicy } from './retry';
import { basicAuthorization, fetchBearerToken, type TokenRealmContext } from './token-fetch';
import { trustedCas } from './trust';

export interface RegistryClientOptions {
  /** Credentials for this registry; absent: from the auth files (credentials.ts), else anonymous. */
  credentials?: RegistryCredentials;
  /** Environment the auth files are found through (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Data root: certs.d/<registry>/*.crt there are trusted for this registry. */
  dataRoot?: string;
  /** Registries that may be spoken to over plain HTTP besides localhost and 127.0.0.0/8. */
  insecureRegistries?: readonly string[];
  retry?: Partial<RetryPolicy>;
  /** A connection silent this long counts as failed (and is retried). Default 60 s. */
  idleTimeoutMs?: number;
}

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** "/v2/..." on the registry, or an absolute URL (an upload's Location). */
  path: string;
  headers?: Record<string, string>;
  /** A buffer, or a function that opens the body afresh for each try. */
  body?: Buffer | (() => Readable);
  /** Token scopes the request needs, e.g. "repository:tools/alpine:pull". */
  scopes: string[];
  /** The statuses that are success; any other is a RegistryError. */
  ok: number[];
  followRedirects?: boolean;
  /** A GET whose body is large (a blob): read on a connection of its own into large buffers (streaming-get.ts). */
  streamBody?: boolean;
  signal?: AbortSignal;
}

/** Media types a manifest GET accepts: OCI and Docker, single-platform and multi-platform. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** A manifest as the registry sent it: its exact bytes (their digest is the manifest's digest). */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** Manifests and token replies are small; a larger reply is refused rather than buffered. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 10;

interface CachedAuthorization {
  header: string;
  expiresAt: number;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

export class RegistryClient {
  readonly endpoint: RegistryEndpoint;
  private readonly options: RegistryClientOptions;
  private readonly retry: RetryPolicy;
  private readonly idleTimeoutMs: number;
  private challenge: AuthChallenge | undefined;
  private readonly authorizations = new Map<string, CachedAuthorization>();
  private readonly casByHost = new Map<string, string[]>();
  private readonly storedCredentials = new Map<string, Promise<RegistryCredentials | undefined>>();
  /** HTTPS, until a loopback or insecure registry shows on the first exchange that it speaks plain HTTP. */
  private originInUse: string;
  private schemeSettled: boolean;

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.endpoint = registryEndpoint(registry, options.insecureRegistries);
    this.options = options;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.originInUse = this.endpoint.origin;
    this.schemeSettled = !this.endpoint.plainOrigin;
  }

  /** The origin requests go to ("https://host" or, for a plain-HTTP registry, "http://host"). */
  get origin(): string {
    return this.originInUse;
  }

  /** A path or a Location of the registry as an absolute URL. */
  resolve(location: string): URL {
    return new URL(location, this.originInUse);
  }

  /** GET /v2/: checks that this is a v2 registry, and learns how it wants to be authenticated. */
  async ping(signal?: AbortSignal): Promise<void> {
    const response = await this.request({ method: 'GET', path: '/v2/', scopes: [], ok: [200], signal });
    discardBody(response);
  }

  /** The manifest (or index) of `reference` (a tag or a digest), verified against a requested digest. */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const response = await this.request({
      method: 'GET',
      path: `/v2/${repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      scopes: [pullScope(repository)],
      ok: [200],
      signal,
    });
    let bytes: Buffer;
    try {
      bytes = await readBody(response, MAX_MANIFEST_BYTES);
    } catch (error) {
      throw new RegistryError(`manifest ${repository}:${reference} from ${this.endpoint.registry}: ${(error as Error).message}`, 200, { cause: error });
    }
    const digest = sha256Digest(bytes);
    if (reference.includes(':') && reference !== digest) {
      throw new RegistryError(
        `manifest ${repository}@${reference} from ${this.endpoint.registry} does not match its digest (its content hashes to ${digest})`,
        200,
      );
    }
    const headerDigest = response.headers['docker-content-digest'];
    if (typeof headerDigest === 'string' && headerDigest.startsWith('sha256:') && headerDigest !== digest) {
      throw new RegistryError(
        `manifest ${repository}:${reference} from ${this.endpoint.registry}: Docker-Content-Digest ${headerDigest} differs from its content's ${digest}`,
        200,
      );
    }
    let mediaType = String(response.headers['content-type'] ?? '').split(';')[0].trim();
    try {
      const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
      if (typeof declared === 'string' && declared) mediaType = declared;
    } catch {
      throw new RegistryError(`manifest ${repository}:${reference} from ${this.endpoint.registry} is not JSON`, 200);
    }
    return { digest, mediaType, bytes };
  }

  /** Whether `repository` has the blob (HEAD). */
  async hasBlob(repository: string, digest: string, scopes = [pullScope(repository)], signal?: AbortSignal): Promise<boolean> {
    const response = await this.request({
      method: 'HEAD',
      path: `/v2/${repository}/blobs/${digest}`,
      scopes,
      ok: [200, 404],
      followRedirects: true,
      signal,
    });
    discardBody(response);
    return response.statusCode === 200;
  }

  /**
   * The blob's bytes as a stream (not verified here: the content store verifies what it ingests).
   * An interrupted body is resumed with a Range request from the last byte received, up to the
   * retry limit; `onBytes` sees each chunk's length. Chunks pass straight from the socket to the
   * consumer, with back-pressure: a pull is bound by the network and the store, not by this.
   * `offset` starts the stream there (a download a killed process began), asked for with Range.
   */
  openBlob(repository: string, digest: string, size: number, options: { signal?: AbortSignal; onBytes?: (n: number) => void; offset?: number } = {}): Readable {
    const { signal, onBytes } = options;
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    let received = options.offset ?? 0;
    let interruptions = 0;
    let current: HttpResponse | undefined;
    out.on('drain', () => current?.resume());
    out.on('close', () => current?.destroy());
    const fail = (error: unknown) => {
      current?.destroy();
      current = undefined;
      out.destroy(error as Error);
    };
    const resume = (cause: unknown) => {
      if (out.destroyed) return;
      if (++interruptions > this.retry.retries) {
        fail(new RegistryError(`blob ${digest}: download interrupted ${interruptions} times (${(cause as Error).message})`, undefined, { cause }));
        return;
      }
      backOff(this.retry, interruptions, signal).then(fetchRest, fail);
    };
    const fetchRest = async () => {
      let response: HttpResponse;
      try {
        response = await this.request({
          method: 'GET',
          path: `/v2/${repository}/blobs/${digest}`,
          headers: received > 0 ? { range: `bytes=${received}-` } : {},
          scopes: [pullScope(repository)],
          ok: [200, 206],
          followRedirects: true,
          streamBody: true,
          signal,
        });
      } catch (error) {
        fail(error);
        return;
      }
      if (out.destroyed) {
        response.destroy();
        return;
      }
      // A server that ignores Range sends the whole blob again: skip what we have.
      let skip = received > 0 && response.statusCode === 200 ? received : 0;
      if (received > 0 && response.statusCode === 206) {
        const start = /^bytes (\d+)-/.exec(String(response.headers['content-range'] ?? ''));
        if (!start || Number(start[1]) !== received) {
          response.destroy();
          fail(new RegistryError(`blob ${digest}: the registry resumed at ${start ? start[1] : 'an unknown offset'}, not at byte ${received}`, 206));
          return;
        }
      }
      current = response;
      let settled = false;
      response.on('data', (data: Buffer) => {
        let chunk = data;
        if (skip > 0) {
          const dropped = Math.min(skip, chunk.length);
          skip -= dropped;
          chunk = chunk.subarray(dropped);
          if (chunk.length === 0) return;
        }
        received += chunk.length;
        if (received > size) {
          settled = true;
          fail(new RegistryError(`blob ${digest} is larger than the ${size} bytes its descriptor says`, response.statusCode ?? 0));
          return;
        }
        onBytes?.(chunk.length);
        if (!out.write(chunk)) response.pause();
      });
      response.once('end', () => {
        if (settled) return;
        settled = true;
        current = undefined;
        if (received >= size) out.end();
        else resume(new Error(`the registry sent ${received} of ${size} bytes`));
      });
      response.on('error', (error) => {
        if (settled) return;
        settled = true;
        current = undefined;
        if (signal?.aborted) fail(signal.reason);
        else if (isRetryableNetworkError(error)) resume(error);
        else fail(error);
      });
    };
    void fetchRest();
    return out;
  }

  /**
   * One request with authorization, redirects and retries; resolves to a response whose status
   * is in `ok` (its body unread: the caller reads or discards it).
   */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    let url = this.resolve(req.path);
    let method = req.method;
    let attempt = 0;
    let redirects = 0;
    let authRefreshed = false;
    for (;;) {
      req.signal?.throwIfAborted();
      const onRegistry = url.origin === this.originInUse;
      const headers: Record<string, string> = { 'user-agent': 'ts-container', ...req.headers };
      if (onRegistry) {
        const authorization = await this.authorization(req.scopes, req.signal);
        if (authorization) headers.authorization = authorization;
      }
      let response: HttpResponse;
      try {
        response = await (req.streamBody && method === 'GET' && !req.body ? sendStreamingGet : sendHttpRequest)({
          method,
          url,
          headers,
          body: typeof req.body === 'function' ? req.body() : req.body,
          ca: url.protocol === 'https:' ? this.cas(url.host) : undefined,
          signal: req.signal,
          idleTimeoutMs: this.idleTimeoutMs,
        });
      } catch (error) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (!this.schemeSettled && onRegistry && speaksNoTls(error)) {
          // A loopback or insecure registry without TLS: plain HTTP from now on.
          this.schemeSettled = true;
          this.originInUse = this.endpoint.plainOrigin as string;
          url = new URL(`${url.pathname}${url.search}`, this.originInUse);
          continue;
        }
        if (isRetryableNetworkError(error) && attempt < this.retry.retries) {
          await backOff(this.retry, ++attempt, req.signal);
          continue;
        }
        throw new RegistryError(`${method} ${url.href}: ${(error as Error).message}${this.certificateHint(error)}`, undefined, { cause: error });
      }
      if (onRegistry) this.schemeSettled = true;
      const status = response.statusCode ?? 0;
      if (req.ok.includes(status)) return response;
      if (status === 401 && onRegistry && !authRefreshed) {
        discardBody(response);
        authRefreshed = true;
        this.learnChallenge(response.headers['www-authenticate'], req.scopes);
        if (this.challenge) continue;
      }
      if (req.followRedirects && [301, 302, 303, 307, 308].includes(status) && response.headers.location) {
        discardBody(response);
        if (++redirects > MAX_REDIRECTS) throw new RegistryError(`${req.method} ${req.path}: more than ${MAX_REDIRECTS} redirects`, status);
        url = new URL(response.headers.location, url);
        if (status === 303) method = 'GET';
        continue;
      }
      if (isRetryableStatus(status) && attempt < this.retry.retries) {
        discardBody(response);
        const retryAfter = response.headers['retry-after'];
        await backOff(this.retry, ++attempt, req.signal, typeof retryAfter === 'string' ? retryAfter : undefined);
        continue;
      }
      throw await this.replyError(req, url, response, Boolean(headers.authorization));
    }
  }

  /** A RegistryError from a failed reply, with the registry's own error text (its JSON "errors"). */
  private async replyError(req: RegistryRequest, url: URL, response: HttpResponse, authorized: boolean): Promise<RegistryError> {
    const status = response.statusCode ?? 0;
    let detail = '';
    if (req.method !== 'HEAD') {
      try {
        const body = await readBody(response, 64 * 1024);
        const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
        detail = (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
      } catch {
        // not the registry's JSON: the status says enough
      }
    } else {
      discardBody(response);
    }
    const refused = this.challenge?.scheme === 'basic' ? 'the credentials were refused' : 'the token does not grant this';
    const what = status === 401 ? (authorized ? refused : 'authentication required') : status === 403 ? 'access denied' : status === 404 ? 'not found' : `HTTP ${status}`;
    return new RegistryError(`${req.method} ${url.origin}${url.pathname}: ${what}${detail ? ` (${detail})` : ''}`, status);
  }

  /** For a certificate the trusted CAs do not vouch for: where a private CA goes. */
  private certificateHint(error: unknown): string {
    const code = String((error as NodeJS.ErrnoException).code ?? '');
    if (!/CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(code)) return '';
    const where = this.options.dataRoot ? `${this.options.dataRoot}/certs.d/${this.endpoint.registry}/ca.crt` : `<dataRoot>/certs.d/${this.endpoint.registry}/ca.crt`;
    return ` (${code}: a registry with a private CA needs that CA in ${where})`;
  }

  /** What a token fetch needs of this client. */
  private tokenRealm(): TokenRealmContext {
    return {
      registry: this.endpoint.registry,
      plainHttpAllowed: Boolean(this.endpoint.plainOrigin),
      retry: this.retry,
      idleTimeoutMs: this.idleTimeoutMs,
      cas: (host) => this.cas(host),
    };
  }

  private cas(host: string): string[] {
    let cas = this.casByHost.get(host);
    if (!cas) {
      // certs.d is keyed by the registry as references name it; another host (a redirect, a realm) by its host:port.
      const key = host === new URL(this.endpoint.origin).host ? this.endpoint.registry : host;
      cas = trustedCas(key, this.options.dataRoot);
      this.casByHost.set(host, cas);
    }
    return cas;
  }

  /** The given credentials, else the auth files' (asked once per repository: a helper runs once). */
  private credentials(repository: string | undefined): Promise<RegistryCredentials | undefined> {
    if (this.options.credentials) return Promise.resolve(this.options.credentials);
    const key = repository ?? '';
    let found = this.storedCredentials.get(key);
    if (!found) {
      found = credentialsFor(this.endpoint.registry, key, this.options.env);
      this.storedCredentials.set(key, found);
      // A failure is not remembered: the next request asks again.
      found.catch(() => this.storedCredentials.delete(key));
    }
    return found;
  }

  /** Remembers the challenge of a 401; the cached authorization for these scopes is stale. */
  private learnChallenge(header: string | string[] | undefined, scopes: string[]): void {
    const challenges = parseAuthChallenges(Array.isArray(header) ? header.join(', ') : header);
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) throw new RegistryError(`${this.endpoint.registry} asks for authentication without a usable challenge (${String(header ?? 'none')})`, 401);
    this.challenge = chosen;
    this.authorizations.delete(scopeKey(scopes));
  }

  /** The Authorization header for these scopes under the known challenge (none before a challenge). */
  private async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const repository = scopes[0]?.split(':')[1];
    if (challenge.scheme === 'basic') {
      const credentials = await this.credentials(repository);
      if (!credentials) throw new RegistryError(`${this.endpoint.registry} needs credentials (basic auth) and none were given or found in the auth files`, 401);
      if (credentials.identityToken !== undefined) {
        throw new RegistryError(`${this.endpoint.registry} asks for basic auth, and the credentials found are an identity token (which only a token realm takes)`, 401);
      }
      return basicAuthorization(credentials.username, credentials.password);
    }
    const key = scopeKey(scopes);
    const cached = this.authorizations.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.header;
    const token = await fetchBearerToken(this.tokenRealm(), challenge.params, scopes, await this.credentials(repository), signal);
    this.authorizations.set(key, token);
    return token.header;
  }
}

/**
 * The error of a TLS handshake with a server that answers in plain HTTP (an error reply that
 * OpenSSL cannot parse, or a reset). Only asked on the first exchange with a registry that may
 * use plain HTTP, as docker and podman fall back for those.
 */
function speaksNoTls(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException & { reason?: string };
  if (e?.code === 'EPROTO' || e?.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || e?.code === 'ECONNRESET') return true;
  return /wrong version number|packet length too long/i.test(String(e?.reason ?? e?.message ?? ''));
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}
