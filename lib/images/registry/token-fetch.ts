/**
 * Bearer tokens from a registry's token realm (the distribution token spec):
 * - anonymously, or with basic credentials: GET realm?service=&scope=...;
 * - with an identity token (docker's `identitytoken`): the OAuth2 refresh-token grant, a form
 *   POST of grant_type=refresh_token, service, scope, client_id and refresh_token. A realm that
 *   does not take POST (404, 405) gets the GET with the identity token as basic auth's
 *   password instead, as docker's and containerd's clients fall back.
 * 5xx replies and network failures are retried with back-off.
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../../errors/errors';
import type { RegistryCredentials } from './credentials';
import { IDENTITY_TOKEN_USERNAME } from './credential-helper';
import { isLoopbackHost } from './endpoint';
import { discardBody, readBody, sendHttpRequest } from './http-request';
import { backOff, isRetryableNetworkError, isRetryableStatus, type RetryPolicy } from './retry';

/** The client id ts-container names itself by in the OAuth2 grant. */
const CLIENT_ID = 'ts-container';
const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export interface TokenRealmContext {
  /** The registry the token is for, for the messages. */
  registry: string;
  /** Whether the registry itself may be spoken to over plain HTTP (then its realm may too). */
  plainHttpAllowed: boolean;
  retry: RetryPolicy;
  idleTimeoutMs: number;
  /** The CAs trusted for an https host. */
  cas(host: string): string[];
}

export interface BearerToken {
  header: string;
  expiresAt: number;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function realmUrl(context: TokenRealmContext, realm: string | undefined): URL {
  let url: URL;
  try {
    url = new URL(realm ?? '');
  } catch {
    throw new RegistryError(`${context.registry}: the token realm "${realm}" is not a URL`, 401);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (isLoopbackHost(url.hostname) || context.plainHttpAllowed))) {
    throw new RegistryError(`${context.registry}: refusing the token realm ${url.href} (plain HTTP to another host)`, 401);
  }
  return url;
}

/** One exchange with the realm, retried on 5xx and network failures; the reply's body unread. */
async function exchange(context: TokenRealmContext, method: 'GET' | 'POST', url: URL, headers: Record<string, string>, body: Buffer | undefined, signal?: AbortSignal): Promise<IncomingMessage> {
  for (let attempt = 0; ; ) {
    let response: IncomingMessage;
    try {
      response = await sendHttpRequest({
        method,
        url,
        headers: { 'user-agent': 'ts-container', accept: 'application/json', ...headers },
        body,
        ca: url.protocol === 'https:' ? context.cas(url.host) : undefined,
        signal,
        idleTimeoutMs: context.idleTimeoutMs,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (isRetryableNetworkError(error) && attempt < context.retry.retries) {
        await backOff(context.retry, ++attempt, signal);
        continue;
      }
      throw new RegistryError(`token from ${url.origin}${url.pathname}: ${(error as Error).message}`, undefined, { cause: error });
    }
    if (isRetryableStatus(response.statusCode ?? 0) && attempt < context.retry.retries) {
      discardBody(response);
      await backOff(context.retry, ++attempt, signal);
      continue;
    }
    return response;
  }
}

/** The token of a 200 reply ({token} or OAuth2's {access_token}) and when to renew it. */
async function tokenOf(url: URL, response: IncomingMessage): Promise<BearerToken> {
  const status = response.statusCode ?? 0;
  let reply: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    reply = JSON.parse((await readBody(response, MAX_REPLY_BYTES)).toString('utf8'));
  } catch (error) {
    throw new RegistryError(`token reply from ${url.origin}${url.pathname} is not JSON`, status, { cause: error });
  }
  const token = typeof reply.token === 'string' && reply.token ? reply.token : reply.access_token;
  if (typeof token !== 'string' || !token) throw new RegistryError(`token reply from ${url.origin}${url.pathname} has no token`, status);
  // Tokens live at least 60 s (the spec's default); renew a little before the end.
  const lifetime = typeof reply.expires_in === 'number' && reply.expires_in > 0 ? reply.expires_in : 60;
  return { header: `Bearer ${token}`, expiresAt: Date.now() + Math.max(lifetime - 10, 1) * 1000 };
}

function refused(context: TokenRealmContext, url: URL, status: number, why: string): RegistryError {
  return new RegistryError(`token for ${context.registry} from ${url.origin}${url.pathname}: ${why}`, status);
}

/** GET realm?service=&scope=..., with basic auth when `basic` is given. */
async function tokenByGet(context: TokenRealmContext, realm: URL, params: Record<string, string>, scopes: string[], basic: { username: string; password: string; what: string } | undefined, signal?: AbortSignal): Promise<BearerToken> {
  const url = new URL(realm);
  if (params.service) url.searchParams.set('service', params.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = basic ? { authorization: basicAuthorization(basic.username, basic.password) } : {};
  const response = await exchange(context, 'GET', url, headers, undefined, signal);
  const status = response.statusCode ?? 0;
  if (status === 200) return tokenOf(url, response);
  discardBody(response);
  if (status === 401 || status === 403) throw refused(context, url, status, basic ? `the ${basic.what} were refused` : 'anonymous access refused; credentials are needed');
  throw refused(context, url, status, `HTTP ${status}`);
}

/** The OAuth2 refresh-token grant; undefined when the realm does not take POST. */
async function tokenByRefreshGrant(context: TokenRealmContext, realm: URL, params: Record<string, string>, scopes: string[], refreshToken: string, signal?: AbortSignal): Promise<BearerToken | undefined> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', service: params.service ?? '', client_id: CLIENT_ID, refresh_token: refreshToken });
  // OAuth2 scopes are one space-separated value.
  if (scopes.length) form.set('scope', scopes.join(' '));
  const body = Buffer.from(form.toString());
  const response = await exchange(context, 'POST', realm, { 'content-type': 'application/x-www-form-urlencoded' }, body, signal);
  const status = response.statusCode ?? 0;
  if (status === 200) return tokenOf(realm, response);
  discardBody(response);
  if (status === 404 || status === 405) return undefined;
  if (status === 400 || status === 401 || status === 403) throw refused(context, realm, status, 'the identity token was refused');
  throw refused(context, realm, status, `HTTP ${status}`);
}

/** A Bearer token from the challenge's realm for `scopes` (anonymous without credentials). */
export async function fetchBearerToken(context: TokenRealmContext, params: Record<string, string>, scopes: string[], credentials: RegistryCredentials | undefined, signal?: AbortSignal): Promise<BearerToken> {
  const realm = realmUrl(context, params.realm);
  if (credentials?.identityToken !== undefined) {
    const token = await tokenByRefreshGrant(context, realm, params, scopes, credentials.identityToken, signal);
    if (token) return token;
    const username = credentials.username || IDENTITY_TOKEN_USERNAME;
    return tokenByGet(context, realm, params, scopes, { username, password: credentials.identityToken, what: 'identity token (as basic auth)' }, signal);
  }
  const basic = credentials ? { username: credentials.username, password: credentials.password, what: 'credentials' } : undefined;
  return tokenByGet(context, realm, params, scopes, basic, signal);
}
