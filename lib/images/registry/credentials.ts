/**
 * Registry credentials where podman and docker keep them.
 *
 * Files, most preferred first (as containers/image orders them): $REGISTRY_AUTH_FILE when set,
 * and then only it; otherwise podman's primary file ${XDG_RUNTIME_DIR}/containers/auth.json
 * (/run/containers/UID/auth.json without XDG_RUNTIME_DIR), ${XDG_CONFIG_HOME:-~/.config}/
 * containers/auth.json, ${DOCKER_CONFIG:-~/.docker}/config.json and the legacy ~/.dockercfg.
 * The first file that answers for the repository wins.
 *
 * In one file, as docker reads it: a `credHelpers` entry for the registry runs that helper;
 * else a `credsStore` runs the default helper; else the `auths` entry whose key covers the
 * repository (a registry, "host:port", docker's "https://host/v1/", or a registry with a
 * repository path; the longest wins) gives `auth` (base64 "user:password"), `username` and
 * `password`, or an `identitytoken` (an OAuth2 refresh token for the registry's token realm).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from '../../errors/errors';
import { credentialsFromHelper } from './credential-helper';

export interface RegistryCredentials {
  username: string;
  password: string;
  /**
   * An identity token (docker's `identitytoken`, or a helper's "<token>" secret): exchanged at
   * the token realm as an OAuth2 refresh token; `password` is then not used.
   */
  identityToken?: string;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

interface AuthFile {
  auths: Record<string, AuthEntry>;
  credHelpers: Record<string, unknown>;
  credsStore?: string;
}

/** The auth files to consult, most preferred first. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const home = env.HOME || os.homedir();
  const uid = process.getuid?.() ?? 0;
  const runtimeDir = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'containers') : path.join('/run/containers', String(uid));
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const dockerDir = env.DOCKER_CONFIG || path.join(home, '.docker');
  return [
    path.join(runtimeDir, 'auth.json'),
    path.join(configHome, 'containers', 'auth.json'),
    path.join(dockerDir, 'config.json'),
    path.join(home, '.dockercfg'),
  ];
}

/** "https://index.docker.io/v1/" -> "docker.io"; "host:5000/" -> "host:5000". */
function normalizeKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  k = k.replace(/\/v[12]$/, '');
  const [host, ...rest] = k.split('/');
  const registry = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  return [registry, ...rest].join('/');
}

/** The server name docker gives credential helpers: Docker Hub's index URL, else the registry. */
function helperServer(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function decodeEntry(file: string, key: string, entry: AuthEntry): RegistryCredentials | undefined {
  let found: RegistryCredentials | undefined;
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new RegistryError(`${file}: the auth of "${key}" is not base64 of "user:password"`);
    found = { username: text.slice(0, colon), password: text.slice(colon + 1) };
  } else if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    found = { username: entry.username, password: entry.password };
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    // docker login stores the username beside the token, and a blank password.
    const username = found?.username ?? (typeof entry.username === 'string' ? entry.username : '');
    return { username, password: '', identityToken: entry.identitytoken };
  }
  return found;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readAuthFile(file: string): AuthFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new RegistryError(`cannot read the registry auth file ${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(`the registry auth file ${file} is not JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (!isObject(parsed)) throw new RegistryError(`the registry auth file ${file} is not a JSON object`);
  // ~/.dockercfg is the bare map of registries that later became "auths".
  if (path.basename(file) === '.dockercfg') return { auths: parsed as Record<string, AuthEntry>, credHelpers: {} };
  const { auths = {}, credHelpers = {}, credsStore } = parsed;
  if (!isObject(auths)) throw new RegistryError(`${file}: "auths" is not an object`);
  if (!isObject(credHelpers)) throw new RegistryError(`${file}: "credHelpers" is not an object`);
  if (credsStore !== undefined && typeof credsStore !== 'string') throw new RegistryError(`${file}: "credsStore" is not a string`);
  return { auths: auths as Record<string, AuthEntry>, credHelpers, credsStore: credsStore || undefined };
}

/** The key of `entries` that covers registry/repository best (the longest), if any. */
function bestKey(keys: string[], registry: string, repository: string): string | undefined {
  const wanted = `${registry}/${repository}`;
  let best: { key: string; length: number } | undefined;
  for (const key of keys) {
    const normalized = normalizeKey(key);
    const covers = normalized === registry || wanted === normalized || wanted.startsWith(`${normalized}/`);
    if (covers && (!best || normalized.length > best.length)) best = { key, length: normalized.length };
  }
  return best?.key;
}

/** What one auth file says for the repository: credentials, or undefined (ask the next file). */
async function credentialsInFile(file: string, auth: AuthFile, registry: string, repository: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | undefined> {
  const helperKey = Object.keys(auth.credHelpers).find((key) => normalizeKey(key) === registry);
  const helperEnv = { ...env, PATH: env.PATH ?? process.env.PATH };
  if (helperKey !== undefined) {
    const helper = auth.credHelpers[helperKey];
    if (typeof helper !== 'string' || !helper) throw new RegistryError(`${file}: credHelpers of "${helperKey}" is not a helper name`);
    return credentialsFromHelper({ helper, server: helperServer(registry), configuredBy: `credHelpers of "${helperKey}" in ${file}`, env: helperEnv });
  }
  if (auth.credsStore) {
    return credentialsFromHelper({ helper: auth.credsStore, server: helperServer(registry), configuredBy: `credsStore in ${file}`, env: helperEnv });
  }
  const key = bestKey(Object.keys(auth.auths), registry, repository);
  if (key === undefined) return undefined;
  const entry = auth.auths[key];
  if (!isObject(entry)) throw new RegistryError(`${file}: the entry of "${key}" is not an object`);
  return decodeEntry(file, key, entry);
}

/**
 * The credentials for `registry`/`repository` from the auth files and the credential helpers
 * they name, or undefined when none has any (the registry is then spoken to anonymously).
 */
export async function credentialsFor(
  registry: string,
  repository: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredentials | undefined> {
  for (const file of authFiles(env)) {
    const auth = readAuthFile(file);
    if (!auth) continue;
    const found = await credentialsInFile(file, auth, registry, repository, env);
    if (found) return found;
  }
  return undefined;
}
