/**
 * Registry credentials from the files podman and docker keep them in: $REGISTRY_AUTH_FILE when
 * set (and then only it, as podman), otherwise $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json and ~/.docker/config.json, the first that has an entry for
 * the repository. An entry's key is a registry ("host:port", or docker's "https://host/v1/")
 * or a registry with a repository path; the longest key that covers the repository wins.
 * Credential helpers (credHelpers, credsStore) are not run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from '../../errors/errors';

export interface RegistryCredentials {
  username: string;
  password: string;
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
}

/** The auth files to consult, most preferred first. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.REGISTRY_AUTH_FILE) return [env.REGISTRY_AUTH_FILE];
  const home = env.HOME || os.homedir();
  const files: string[] = [];
  if (env.XDG_RUNTIME_DIR) files.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  files.push(path.join(home, '.config', 'containers', 'auth.json'), path.join(home, '.docker', 'config.json'));
  return files;
}

/** "https://index.docker.io/v1/" -> "docker.io"; "host:5000/" -> "host:5000". */
function normalizeKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  k = k.replace(/\/v[12]$/, '');
  const [host, ...rest] = k.split('/');
  const registry = host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  return [registry, ...rest].join('/');
}

function decodeEntry(file: string, key: string, entry: AuthEntry): RegistryCredentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new RegistryError(`${file}: the auth of "${key}" is not base64 of "user:password"`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function readAuths(file: string): Record<string, AuthEntry> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError(`cannot read the registry auth file ${file}: ${(error as Error).message}`, undefined, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(`the registry auth file ${file} is not JSON: ${(error as Error).message}`, undefined, { cause: error });
  }
  const auths = (parsed as { auths?: unknown } | null)?.auths;
  if (auths === undefined) return {};
  if (typeof auths !== 'object' || auths === null) throw new RegistryError(`${file}: "auths" is not an object`);
  return auths as Record<string, AuthEntry>;
}

/**
 * The credentials for `registry`/`repository` from the auth files, or undefined when none has
 * an entry (the registry is then spoken to anonymously).
 */
export function credentialsFor(
  registry: string,
  repository: string,
  env: NodeJS.ProcessEnv = process.env,
): RegistryCredentials | undefined {
  const wanted = `${registry}/${repository}`;
  for (const file of authFiles(env)) {
    const auths = readAuths(file);
    if (!auths) continue;
    let best: { key: string; normalized: string } | undefined;
    for (const key of Object.keys(auths)) {
      const normalized = normalizeKey(key);
      const covers = normalized === registry || wanted === normalized || wanted.startsWith(`${normalized}/`);
      if (covers && (!best || normalized.length > best.normalized.length)) best = { key, normalized };
    }
    if (best) {
      const found = decodeEntry(file, best.key, auths[best.key]);
      if (found) return found;
    }
  }
  return undefined;
}
