/**
 * Credentials from docker's credential helpers (credHelpers per registry, credsStore as the
 * default) and identity tokens, read from auth files in a temp HOME, with a helper script the
 * test writes onto PATH.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RegistryError } from '../../lib/errors/errors';
import { credentialsFor } from '../../lib/images/registry/credentials';
import { writeCredentialHelper } from '../support/credential-helper-script';

let dir: string;
let home: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-credhelper-'));
  home = path.join(dir, 'home');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An environment whose every auth file is under the temp dir, with `binDir` first on PATH. */
function env(binDir?: string): NodeJS.ProcessEnv {
  return { HOME: home, XDG_RUNTIME_DIR: path.join(dir, 'run'), PATH: [binDir, '/usr/bin:/bin'].filter(Boolean).join(':') };
}

function dockerConfig(config: unknown): void {
  fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
  fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify(config));
}

describe('credential helpers', () => {
  test('credHelpers runs that registry\'s helper with the registry on stdin; others fall to auths', async () => {
    const helper = writeCredentialHelper(dir, 'teststore', { 'reg.example:5000': { Username: 'helped', Secret: 'from-helper' } });
    dockerConfig({
      credHelpers: { 'reg.example:5000': 'teststore' },
      auths: { 'reg.example:5000': { auth: Buffer.from('file:not-used').toString('base64') }, 'other.example': { auth: Buffer.from('plain:pw').toString('base64') } },
    });
    expect(await credentialsFor('reg.example:5000', 'team/app', env(helper.binDir))).toEqual({ username: 'helped', password: 'from-helper' });
    expect(await credentialsFor('other.example', 'x', env(helper.binDir))).toEqual({ username: 'plain', password: 'pw' });
    expect(helper.asked()).toEqual(['reg.example:5000']);
  });

  test('credsStore is the helper of every registry without a credHelpers entry; Docker Hub is asked by its index URL', async () => {
    const helper = writeCredentialHelper(dir, 'defaultstore', {
      'https://index.docker.io/v1/': { Username: 'hub', Secret: 'hubpw' },
      'reg.example': { Username: 'r', Secret: 'rpw' },
    });
    dockerConfig({ credsStore: 'defaultstore', auths: { 'reg.example': {} } });
    expect(await credentialsFor('docker.io', 'library/alpine', env(helper.binDir))).toEqual({ username: 'hub', password: 'hubpw' });
    expect(await credentialsFor('reg.example', 'a', env(helper.binDir))).toEqual({ username: 'r', password: 'rpw' });
    expect(helper.asked()).toEqual(['https://index.docker.io/v1/', 'reg.example']);
  });

  test('a helper without an entry ("credentials not found") means no credentials from that file', async () => {
    const helper = writeCredentialHelper(dir, 'emptystore', {});
    dockerConfig({ credsStore: 'emptystore' });
    expect(await credentialsFor('reg.example', 'a', env(helper.binDir))).toBeUndefined();
    expect(helper.asked()).toEqual(['reg.example']);
  });

  test('the helper\'s "<token>" username makes its secret an identity token', async () => {
    const helper = writeCredentialHelper(dir, 'tokenstore', { 'reg.example': { Username: '<token>', Secret: 'refresh-123' } });
    dockerConfig({ credHelpers: { 'reg.example': 'tokenstore' } });
    expect(await credentialsFor('reg.example', 'a', env(helper.binDir))).toEqual({ username: '', password: '', identityToken: 'refresh-123' });
  });

  test('a helper that is not installed: a RegistryError naming the missing binary and where it is configured', async () => {
    dockerConfig({ credHelpers: { 'reg.example': 'absent' } });
    const failure = credentialsFor('reg.example', 'a', env());
    await expect(failure).rejects.toThrow(RegistryError);
    await expect(failure).rejects.toThrow(/credential helper docker-credential-absent is not installed: not found on PATH.*credHelpers of "reg\.example" in .*config\.json/);
  });

  test('a helper that fails, or answers with something other than its JSON: a RegistryError with what it said', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'docker-credential-broken'), '#!/bin/sh\necho "keyring is locked" >&2\nexit 3\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'docker-credential-garbled'), '#!/bin/sh\necho "hello"\n', { mode: 0o755 });
    dockerConfig({ credHelpers: { 'a.example': 'broken', 'b.example': 'garbled' } });
    await expect(credentialsFor('a.example', 'x', env(bin))).rejects.toThrow(/docker-credential-broken .* exited with status 3 asked for a\.example: keyring is locked/);
    await expect(credentialsFor('b.example', 'x', env(bin))).rejects.toThrow(/docker-credential-garbled .* something other than JSON: hello/);
  });
});

describe('identity tokens in auth files', () => {
  test('an auths entry with identitytoken gives the token with its username, not a password', async () => {
    dockerConfig({ auths: { 'reg.example': { auth: Buffer.from('dave:').toString('base64'), identitytoken: 'refresh-xyz' } } });
    expect(await credentialsFor('reg.example', 'a', env())).toEqual({ username: 'dave', password: '', identityToken: 'refresh-xyz' });
  });
});
