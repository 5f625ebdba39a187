/**
 * A real registry for tests: Debian's docker-registry (the CNCF distribution registry) started
 * on 127.0.0.1 at a port it picks itself, storage in a temp dir, with no auth, htpasswd auth or
 * token auth. For token auth, a small issuer here signs JWTs with a key and certificate made
 * by the openssl CLI, which the registry trusts through its rootcertbundle. Run it only inside
 * a network namespace the test made (test-network.ts): nothing here listens on the host's.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** "127.0.0.1:<port>", as references name it. */
  host: string;
  port: number;
  storageDir: string;
  stop(): Promise<void>;
}

export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; token: TokenAuthConfig };

function authYaml(dir: string, auth: RegistryAuth): string {
  if (auth.kind === 'none') return '';
  if (auth.kind === 'htpasswd') {
    const file = path.join(dir, 'htpasswd');
    // The registry reads bcrypt entries only: htpasswd -B (apache2-utils) writes them.
    const lines = Object.entries(auth.users).map(([user, password]) =>
      execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }).trim(),
    );
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${file}\n`;
  }
  const t = auth.token;
  return (
    `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n` +
    `    rootcertbundle: ${t.rootCertBundle}\n`
  );
}

/** Starts the registry; resolves once it listens. */
/** A certificate and key the registry serves TLS with. */
export interface RegistryTls {
  certificate: string;
  key: string;
}

export async function startRegistry(dir: string, auth: RegistryAuth = { kind: 'none' }, tls?: RegistryTls): Promise<TestRegistry> {
  const storageDir = path.join(dir, 'storage');
  fs.mkdirSync(storageDir, { recursive: true });
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(
    configFile,
    `version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n` +
      `storage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\n` +
      `http:\n  addr: 127.0.0.1:0\n  secret: ${crypto.randomBytes(16).toString('hex')}\n` +
      (tls ? `  tls:\n    certificate: ${tls.certificate}\n    key: ${tls.key}\n` : '') +
      authYaml(dir, auth),
  );
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let log = '';
    const onData = (data: Buffer) => {
      log += data.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve(Number(m[1]));
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`docker-registry exited (${code}) before listening:\n${log}`)));
    child.once('error', reject);
  });
  return {
    host: `127.0.0.1:${port}`,
    port,
    storageDir,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface TokenIssuer {
  config: TokenAuthConfig;
  /**
   * Every token request: who asked (undefined: anonymous) and for which scopes; an OAuth2
   * refresh-token grant (POST) also says `grant` and `clientId`, and a GET whose basic
   * password was a refresh token says `identityToken: true`.
   */
  requests: { user?: string; scopes: string[]; method?: 'POST'; grant?: string; clientId?: string; identityToken?: true; refusedMethod?: true }[];
  /** Whether POST is taken (405 otherwise), to be switched between scenarios. */
  setAcceptPost(accept: boolean): void;
  stop(): Promise<void>;
}

export interface TokenIssuerOptions {
  /** Refresh tokens (identity tokens) the issuer takes, each standing for a user of `users`. */
  refreshTokens?: Record<string, string>;
  /** false: POST gets 405, as a realm without the OAuth2 endpoint answers (default true). */
  acceptPost?: boolean;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function readRequestBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.once('end', () => resolve(body));
    req.once('error', reject);
  });
}

/**
 * A token server as the registry's token auth expects one: GET ?service=&scope=..., basic
 * credentials optional, and the OAuth2 refresh-token grant as a form POST (grant_type,
 * refresh_token, service, scope, client_id). `users` may push and pull; anonymous callers
 * may pull when `anonymousPull`. A refused user or refresh token gets 401.
 */
export async function startTokenIssuer(dir: string, users: Record<string, string>, anonymousPull: boolean, options: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const keyFile = path.join(dir, 'issuer-key.pem');
  const certFile = path.join(dir, 'issuer-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=test-token-issuer'], {
    stdio: 'ignore',
  });
  const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
  const certDer = new crypto.X509Certificate(fs.readFileSync(certFile)).raw;
  const service = 'test-registry';
  const issuer = 'test-issuer';
  const refreshTokens = options.refreshTokens ?? {};
  let acceptPost = options.acceptPost ?? true;
  const requests: TokenIssuer['requests'] = [];

  const issue = (res: http.ServerResponse, user: string | undefined, scopes: string[], oauth: boolean) => {
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !actions) return [];
      const wanted = actions.split(',');
      const granted = user ? wanted : anonymousPull ? wanted.filter((a) => a === 'pull') : [];
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = crypto.sign('sha256', Buffer.from(signingInput), key);
    const token = `${signingInput}.${base64url(signature)}`;
    // The OAuth2 endpoint answers in RFC 6749's words; the GET endpoint in the registry's.
    const reply = oauth ? { access_token: token, expires_in: 300, scope: scopes.join(' ') } : { token, expires_in: 300, issued_at: new Date().toISOString() };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  };
  const refuse = (res: http.ServerResponse) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"wrong credentials"}');

  const onPost = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = new URLSearchParams(await readRequestBody(req));
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (!acceptPost) {
      requests.push({ method: 'POST', scopes, refusedMethod: true });
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const entry = { method: 'POST' as const, grant: form.get('grant_type') ?? '', clientId: form.get('client_id') ?? '', scopes };
    const user = refreshTokens[form.get('refresh_token') ?? ''];
    requests.push({ user, ...entry });
    if (entry.grant !== 'refresh_token' || form.get('service') !== service || user === undefined) {
      refuse(res);
      return;
    }
    issue(res, user, scopes, true);
  };

  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      onPost(req, res).catch(() => res.destroy());
      return;
    }
    const url = new URL(req.url ?? '/', 'http://issuer');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [name, ...rest] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
      const password = rest.join(':');
      const tokenUser = refreshTokens[password];
      if (tokenUser !== undefined && (name === '<token>' || name === tokenUser)) {
        requests.push({ user: tokenUser, scopes, identityToken: true });
        issue(res, tokenUser, scopes, false);
        return;
      }
      if (users[name] === undefined || users[name] !== password) {
        requests.push({ user: name, scopes });
        refuse(res);
        return;
      }
      user = name;
    }
    requests.push({ user, scopes });
    issue(res, user, scopes, false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    config: { realm: `http://127.0.0.1:${port}/token`, service, issuer, rootCertBundle: certFile },
    requests,
    setAcceptPost: (accept) => {
      acceptPost = accept;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A test CA (ca.crt) and a server certificate it signed for 127.0.0.1, made with the openssl CLI.
 */
export function makeTestCa(dir: string): { caCert: string; tls: RegistryTls } {
  fs.mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=ts-container test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext')]);
  return { caCert: f('ca.crt'), tls: { certificate: f('server.crt'), key: f('server.key') } };
}
