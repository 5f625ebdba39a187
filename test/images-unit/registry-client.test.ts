/**
 * The registry client's pure parts: WWW-Authenticate challenges, the auth files docker and
 * podman write, platform choice, and which registries may use plain HTTP.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from '../../lib/errors/errors';
import { parseAuthChallenges } from '../../lib/images/registry/auth-challenge';
import { authFiles, credentialsFor } from '../../lib/images/registry/credentials';
import { registryEndpoint } from '../../lib/images/registry/endpoint';
import { choosePlatformManifest, parsePlatform, platformMatches } from '../../lib/images/registry/platform';
import { chainIds } from '../../lib/images/layer-store';

describe('WWW-Authenticate challenges', () => {
  test('Bearer with realm, service and a scope holding commas', () => {
    expect(parseAuthChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
    ]);
  });

  test('Basic, and several schemes in one header with an unquoted value', () => {
    expect(parseAuthChallenges('Basic realm="r1", Bearer realm="https://t/x", error=invalid_token')).toEqual([
      { scheme: 'basic', params: { realm: 'r1' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', error: 'invalid_token' } },
    ]);
  });

  test('escaped quotes inside a quoted value; no header at all', () => {
    expect(parseAuthChallenges('Bearer realm="a\\"b"')[0].params.realm).toBe('a"b');
    expect(parseAuthChallenges(undefined)).toEqual([]);
  });
});

describe('credentials from auth files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-auth-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const write = (file: string, auths: unknown) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ auths }));
    return file;
  };

  test('$REGISTRY_AUTH_FILE alone when set; otherwise podman\'s then docker\'s files', () => {
    expect(authFiles({ REGISTRY_AUTH_FILE: '/x/auth.json', HOME: '/h' })).toEqual(['/x/auth.json']);
    expect(authFiles({ HOME: '/h', XDG_RUNTIME_DIR: '/run/user/7' })).toEqual([
      '/run/user/7/containers/auth.json',
      '/h/.config/containers/auth.json',
      '/h/.docker/config.json',
      '/h/.dockercfg',
    ]);
    // Without XDG_RUNTIME_DIR podman's primary file is per uid under /run/containers;
    // XDG_CONFIG_HOME and DOCKER_CONFIG move the others.
    expect(authFiles({ HOME: '/h', XDG_CONFIG_HOME: '/cfg', DOCKER_CONFIG: '/dc' })).toEqual([
      `/run/containers/${process.getuid?.() ?? 0}/auth.json`,
      '/cfg/containers/auth.json',
      '/dc/config.json',
      '/h/.dockercfg',
    ]);
  });

  test('a registry key, docker\'s URL form and docker.io\'s index URL all match', async () => {
    const file = write(path.join(dir, 'a.json'), {
      'reg.example:5000': { auth: b64('alice:pw:with:colons') },
      'https://index.docker.io/v1/': { auth: b64('hubuser:hubpw') },
      'http://other.example/v2/': { username: 'u', password: 'p' },
    });
    const env = { REGISTRY_AUTH_FILE: file };
    expect(await credentialsFor('reg.example:5000', 'team/app', env)).toEqual({ username: 'alice', password: 'pw:with:colons' });
    expect(await credentialsFor('docker.io', 'library/alpine', env)).toEqual({ username: 'hubuser', password: 'hubpw' });
    expect(await credentialsFor('other.example', 'x', env)).toEqual({ username: 'u', password: 'p' });
    expect(await credentialsFor('reg.example', 'team/app', env)).toBeUndefined();
  });

  test('the most specific repository key wins, and never matches a longer name by prefix', async () => {
    const file = write(path.join(dir, 'b.json'), {
      'reg.example': { auth: b64('registry:1') },
      'reg.example/team': { auth: b64('team:2') },
      'reg.example/team/app': { auth: b64('app:3') },
    });
    const env = { REGISTRY_AUTH_FILE: file };
    expect((await credentialsFor('reg.example', 'team/app', env))?.username).toBe('app');
    expect((await credentialsFor('reg.example', 'team/other', env))?.username).toBe('team');
    expect((await credentialsFor('reg.example', 'teamwork/app', env))?.username).toBe('registry');
  });

  test('the first file with an entry wins; files without one are passed over', async () => {
    const home = path.join(dir, 'home');
    write(path.join(home, '.config', 'containers', 'auth.json'), { 'elsewhere.example': { auth: b64('x:y') } });
    write(path.join(home, '.docker', 'config.json'), { 'reg.example': { auth: b64('docker:pw') } });
    expect(await credentialsFor('reg.example', 'a', { HOME: home, XDG_RUNTIME_DIR: path.join(dir, 'run') })).toEqual({ username: 'docker', password: 'pw' });
    expect(await credentialsFor('none.example', 'a', { HOME: home, XDG_RUNTIME_DIR: path.join(dir, 'run') })).toBeUndefined();
  });

  test('podman\'s primary file under $XDG_RUNTIME_DIR wins over docker\'s; $REGISTRY_AUTH_FILE replaces them all', async () => {
    const home = path.join(dir, 'home');
    const runtime = path.join(dir, 'run');
    write(path.join(runtime, 'containers', 'auth.json'), { 'reg.example': { auth: b64('podman:pw') } });
    write(path.join(home, '.docker', 'config.json'), { 'reg.example': { auth: b64('docker:pw') }, 'only.docker': { auth: b64('d:2') } });
    expect(await credentialsFor('reg.example', 'a', { HOME: home, XDG_RUNTIME_DIR: runtime })).toEqual({ username: 'podman', password: 'pw' });
    expect(await credentialsFor('only.docker', 'a', { HOME: home, XDG_RUNTIME_DIR: runtime })).toEqual({ username: 'd', password: '2' });
    const only = write(path.join(dir, 'only.json'), {});
    expect(await credentialsFor('reg.example', 'a', { HOME: home, XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: only })).toBeUndefined();
  });

  test('a file that is not JSON, or an auth that is not user:password, is a RegistryError naming the file', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{ not json');
    await expect(credentialsFor('reg.example', 'a', { REGISTRY_AUTH_FILE: bad })).rejects.toThrow(RegistryError);
    await expect(credentialsFor('reg.example', 'a', { REGISTRY_AUTH_FILE: bad })).rejects.toThrow(bad);
    const noColon = write(path.join(dir, 'c.json'), { 'reg.example': { auth: b64('nocolon') } });
    await expect(credentialsFor('reg.example', 'a', { REGISTRY_AUTH_FILE: noColon })).rejects.toThrow(/not base64 of "user:password"/);
  });
});

describe('platforms', () => {
  const manifests = [
    { digest: 'sha256:amd', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { digest: 'sha256:armv6', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { digest: 'sha256:armv7', size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { digest: 'sha256:arm64', size: 1, platform: { os: 'linux', architecture: 'arm64' } },
  ];

  test('os/arch/variant parse; anything else is a TypeError', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => parsePlatform('linux')).toThrow(TypeError);
    expect(() => parsePlatform('linux/amd64/v1/x')).toThrow(TypeError);
  });

  test('the variant chooses among arm images; arm64 means v8 with or without it', () => {
    expect(choosePlatformManifest(manifests, parsePlatform('linux/arm/v7'), 'x').digest).toBe('sha256:armv7');
    expect(choosePlatformManifest(manifests, parsePlatform('linux/arm/v6'), 'x').digest).toBe('sha256:armv6');
    expect(choosePlatformManifest(manifests, parsePlatform('linux/arm64/v8'), 'x').digest).toBe('sha256:arm64');
    expect(platformMatches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true);
    expect(platformMatches(parsePlatform('linux/arm64/v9'), { os: 'linux', architecture: 'arm64' })).toBe(false);
  });

  test('no match is a RegistryError listing what there is', () => {
    expect(() => choosePlatformManifest(manifests, parsePlatform('windows/amd64'), 'img')).toThrow(
      'img has no image for windows/amd64 (it has: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64)',
    );
  });
});

describe('endpoints', () => {
  test('loopback names and listed insecure registries may fall back to plain HTTP; others are HTTPS only', () => {
    expect(registryEndpoint('127.0.0.1:5000').plainOrigin).toBe('http://127.0.0.1:5000');
    expect(registryEndpoint('127.3.4.5').plainOrigin).toBe('http://127.3.4.5');
    expect(registryEndpoint('localhost:5000').plainOrigin).toBe('http://localhost:5000');
    expect(registryEndpoint('[::1]:5000').plainOrigin).toBe('http://[::1]:5000');
    expect(registryEndpoint('reg.example:5000').plainOrigin).toBeUndefined();
    expect(registryEndpoint('128.0.0.1').plainOrigin).toBeUndefined();
    expect(registryEndpoint('reg.example:5000', ['reg.example:5000']).plainOrigin).toBe('http://reg.example:5000');
    expect(registryEndpoint('reg.example:5000', ['reg.example']).plainOrigin).toBe('http://reg.example:5000');
  });

  test('docker.io is reached at its API host', () => {
    expect(registryEndpoint('docker.io')).toMatchObject({ origin: 'https://registry-1.docker.io', plainOrigin: undefined });
  });
});

describe('chain ids', () => {
  test('the first is the diff id; each next hashes the parent chain id, a space and the diff id', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    const ids = chainIds([a, b]);
    expect(ids[0]).toBe(a);
    const expected = crypto.createHash('sha256').update(`${a} ${b}`).digest('hex');
    expect(ids[1]).toBe(`sha256:${expected}`);
  });
});
