/**
 * Pull from a real registry (Debian's docker-registry) filled by skopeo from umoci-made
 * layouts; every scenario runs in a network namespace of its own (registry-scenarios.ts).
 */
import * as path from 'node:path';
import { runInTestNetwork } from '../support/test-network';
import type * as scenarios from './registry-scenarios';

const SCENARIOS = path.join(__dirname, 'registry-scenarios.ts');
type Result<K extends keyof typeof scenarios> = Awaited<ReturnType<(typeof scenarios)[K]>>;
const run = <K extends keyof typeof scenarios>(name: K, args: unknown = null) => runInTestNetwork<Result<K>>(SCENARIOS, name, args);

jest.setTimeout(180_000);

describe('pull from a registry without auth', () => {
  let r: Result<'pullWithoutAuth'>;
  beforeAll(async () => {
    r = await run('pullWithoutAuth');
  });

  test('the image pulled is the one skopeo pushed: same manifest digest, every blob byte-equal', () => {
    expect(r.digest).toBe(r.expectedDigest);
    expect(r.compared.stored).toEqual(r.compared.wanted);
    expect(r.compared.mismatched).toEqual([]);
    expect(r.compared.leftoverIngest).toEqual([]);
  });

  test('the config is read (the id is its digest) with the Cmd and Env umoci wrote', () => {
    expect(r.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.config).toMatchObject({ Cmd: ['/bin/sh', '-c', 'echo hi'], Env: expect.arrayContaining(['GREETING=hi']) });
  });

  test('each layer goes to the layer store in order, on its parent chain, and unpacks to its diff id', () => {
    expect(r.layerCalls.map((c) => c.chainId)).toEqual(r.chainIds);
    expect(r.layerCalls.map((c) => c.parent)).toEqual([null, r.chainIds[0]]);
    // All at once: the upper one is told what to wait for before it finishes.
    expect(r.layerCalls.map((c) => c.parentReady)).toEqual([false, true]);
    expect(r.chainIds[0]).toBe(r.diffIds[0]);
    expect(r.chainIds[1]).not.toBe(r.diffIds[1]);
    for (const call of r.layerCalls) expect(call.unpackedDigest).toBe(call.diffId);
  });

  test('progress per layer: download up to its size, then verify, unpack, done', () => {
    const layers = Object.values(r.progress);
    expect(layers).toHaveLength(2);
    for (const layer of layers) {
      expect(layer.phases).toEqual(['download', 'verify', 'unpack', 'done']);
      expect(layer.lastDownload).toBe(layer.total);
    }
    expect(r.layerSizes[0]).toBeGreaterThan(3 * 1024 * 1024);
  });

  test('a second pull of the same image downloads nothing', () => {
    expect(r.secondPullDownloads).toBe(0);
  });
});

describe('basic auth (htpasswd, bcrypt)', () => {
  let r: Result<'pullWithHtpasswd'>;
  beforeAll(async () => {
    r = await run('pullWithHtpasswd');
  });

  test.each(['anonymous', 'wrongPassword', 'wrongInAuthFile'] as const)('%s: a RegistryError with status 401, nothing stored', (key) => {
    expect(r[key].result).toMatchObject({ ok: false, error: { name: 'RegistryError', code: 'EREGISTRY', status: 401 } });
    expect(r[key].blobs).toBe(0);
  });

  test('no credentials at all says that credentials are needed; wrong ones say they were refused', () => {
    expect(r.anonymous.result).toMatchObject({ error: { message: expect.stringContaining('needs credentials') } });
    expect(r.wrongPassword.result).toMatchObject({ error: { message: expect.stringContaining('credentials were refused') } });
  });

  test.each(['withAuthOption', 'fromRegistryAuthFile', 'fromDockerConfig'] as const)('credentials %s: the pull succeeds', (key) => {
    expect(r[key].result).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r[key].blobs).toBe(3);
  });

  test('ping (GET /v2/) passes with credentials and is a 401 RegistryError without', () => {
    expect(r.pingWithCredentials).toEqual({ ok: true });
    expect(r.pingAnonymous).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 401 } });
  });

  test('a redirect to another origin gets no Authorization: the credentials stay with the registry', () => {
    expect(r.redirected.digest).toBe(r.expectedDigest);
    expect(r.redirected.layerRequests).toEqual([
      { via: 'proxy', authorization: true },
      { via: 'storage', authorization: false },
    ]);
  });
});

describe('token auth (a JWT issuer the registry trusts)', () => {
  let r: Result<'tokenAuth'>;
  beforeAll(async () => {
    r = await run('tokenAuth');
  });

  test('an anonymous pull gets an anonymous token for the pull scope', () => {
    expect(r.anonymous).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.anonymousTokenRequests).toEqual([{ scopes: ['repository:team/app:pull'] }]);
  });

  test('with credentials the token is asked for with them, once for the whole pull', () => {
    expect(r.withCredentials).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.credentialTokenRequests).toEqual([{ user: 'bob', scopes: ['repository:team/app:pull'] }]);
  });

  test('credentials the issuer refuses: RegistryError 401 naming the token server', () => {
    expect(r.wrong).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 401, message: expect.stringContaining('credentials were refused') } });
  });

  test('a push needs a token granting push: refused anonymously, done with credentials', () => {
    expect(r.anonymousPush).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 401 } });
    expect(r.bobPush).toMatchObject({ ok: true, value: { digest: r.expectedDigest } });
    expect(r.pushTokenRequests).toContainEqual({ user: 'bob', scopes: ['repository:team/copy:pull,push'] });
    expect(r.pushedBackDigest).toBe(r.expectedDigest);
  });
});

describe('credentials from helpers and identity tokens, as docker and podman read them', () => {
  let r: Result<'credentialHelpersAndIdentityTokens'>;
  beforeAll(async () => {
    r = await run('credentialHelpersAndIdentityTokens');
  });
  const pullScopes = () => ['repository:team/app:pull'];

  test('without credentials the issuer refuses: the pulls below succeed only through theirs', () => {
    expect(r.anonymous.result).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 401, message: expect.stringContaining('authentication required') } });
    expect(r.anonymous.blobs).toBe(0);
  });

  test('an identitytoken is exchanged with the OAuth2 refresh-token grant (POST), once for the pull', () => {
    expect(r.identityToken.result).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.identityToken.blobs).toBe(3);
    expect(r.identityToken.tokenRequests).toEqual([{ method: 'POST', grant: 'refresh_token', clientId: 'ts-container', user: 'carol', scopes: pullScopes() }]);
  });

  test('a realm that takes no POST gets a GET with the identity token as basic auth', () => {
    expect(r.identityTokenWithoutPost.result).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.identityTokenWithoutPost.tokenRequests).toEqual([
      { method: 'POST', scopes: pullScopes(), refusedMethod: true },
      { user: 'carol', scopes: pullScopes(), identityToken: true },
    ]);
  });

  test('an identity token the issuer refuses: RegistryError 401 saying so, nothing stored', () => {
    expect(r.wrongIdentityToken.result).toMatchObject({ ok: false, error: { name: 'RegistryError', code: 'EREGISTRY', status: 401, message: expect.stringContaining('identity token was refused') } });
    expect(r.wrongIdentityToken.blobs).toBe(0);
  });

  test('credHelpers: the registry\'s helper is asked once, with the registry, and wins over the auths entry', () => {
    expect(r.credHelpers.result).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.credHelpersAsked).toEqual([r.host]);
    expect(r.credHelpers.tokenRequests).toEqual([{ user: 'carol', scopes: pullScopes() }]);
  });

  test('credsStore: the default helper\'s "<token>" secret is used as an identity token', () => {
    expect(r.credsStore.result).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.credsStoreAsked).toEqual([r.host]);
    expect(r.credsStore.tokenRequests).toEqual([{ method: 'POST', grant: 'refresh_token', clientId: 'ts-container', user: 'carol', scopes: pullScopes() }]);
  });

  test('a push with an identity token: the grant asks for pull and push, and the registry has the image', () => {
    expect(r.pushed).toEqual({ ok: true, digest: r.expectedDigest });
    expect(r.pushTokenRequests).toContainEqual({ method: 'POST', grant: 'refresh_token', clientId: 'ts-container', user: 'carol', scopes: ['repository:team/copy:pull,push'] });
    expect(r.pushTokenRequests.every((q) => q.method === 'POST')).toBe(true);
    expect(r.pushedBackDigest).toBe(r.expectedDigest);
  });

  test('a helper that is not installed: RegistryError naming docker-credential-NAME, nothing stored, no token asked', () => {
    expect(r.missingHelper.result).toMatchObject({
      ok: false,
      error: { name: 'RegistryError', code: 'EREGISTRY', message: expect.stringMatching(/credential helper docker-credential-not-installed is not installed: not found on PATH/) },
    });
    expect(r.missingHelper.blobs).toBe(0);
    expect(r.missingHelper.tokenRequests).toEqual([]);
  });
});

describe('faults between the client and the registry', () => {
  let r: Result<'pullThroughFaults'>;
  beforeAll(async () => {
    r = await run('pullThroughFaults');
  });

  test('the pull succeeds with the exact image in spite of them', () => {
    expect(r.digest).toBe(r.expectedDigest);
    expect(r.compared.stored).toEqual(r.compared.wanted);
    expect(r.compared.mismatched).toEqual([]);
    expect(r.compared.leftoverIngest).toEqual([]);
  });

  test('5xx replies and a reset before the reply are retried', () => {
    expect(r.manifestRequests).toEqual(['status', 'status', 'ok']);
    expect(r.configRequests).toEqual(['reset', 'ok']);
  });

  test('a blob cut in the middle resumes with Range from the bytes already received', () => {
    expect(r.bigLayerRequests).toHaveLength(3);
    expect(r.bigLayerRequests[0]).toEqual({ fault: 'reset-mid-body', range: null });
    const offsets = r.bigLayerRequests.slice(1).map((q) => Number(/^bytes=(\d+)-$/.exec(q.range ?? '')?.[1]));
    expect(offsets[0]).toBeGreaterThan(0);
    expect(offsets[1]).toBeGreaterThan(offsets[0]);
    expect(offsets[1]).toBeLessThan(r.bigLayerSize);
  });

  test('a redirected blob is fetched from where the redirect points', () => {
    expect(r.smallLayerRequests).toEqual([
      { via: 'proxy', fault: 'redirect' },
      { via: 'storage', fault: 'ok' },
    ]);
  });

  test('5xx past the retries: RegistryError with the status, after 1 + retries tries, nothing stored', () => {
    expect(r.exhausted).toMatchObject({ ok: false, error: { name: 'RegistryError', code: 'EREGISTRY', status: 500 } });
    expect(r.exhaustedManifestRequests).toBe(3);
    expect(r.exhaustedBlobs).toEqual([]);
  });
});

describe('platforms and manifest formats', () => {
  let r: Result<'platformsAndFormats'>;
  beforeAll(async () => {
    r = await run('platformsAndFormats');
  });

  test('an index resolves to the platform asked for; by default this machine\'s', () => {
    expect(r.arm).toEqual({ digest: r.armDigest, indexDigest: r.indexDigest });
    expect(r.armV8).toBe(r.armDigest);
    if (r.arch === 'x64') expect(r.hostDefault).toEqual({ digest: r.amdDigest, indexDigest: r.indexDigest });
    else expect(r.hostDefault.indexDigest).toBe(r.indexDigest);
  });

  test('a platform the index lacks: RegistryError naming what it has', () => {
    expect(r.missingPlatform).toMatchObject({ ok: false, error: { name: 'RegistryError', message: expect.stringContaining('linux/s390x') } });
    expect(r.missingPlatform).toMatchObject({ error: { message: expect.stringContaining('linux/amd64, linux/arm64/v8') } });
  });

  test('a pull by digest gets that manifest', () => {
    expect(r.byDigest).toBe(r.armDigest);
  });

  test('Docker v2 schema 2 (as skopeo converts it) pulls with its Docker media types', () => {
    expect(r.docker).toMatchObject({
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      layerMediaTypes: ['application/vnd.docker.image.rootfs.diff.tar.gzip'],
      configMediaType: 'application/vnd.docker.container.image.v1+json',
      storedManifest: true,
    });
  });

  test('a missing tag or repository: RegistryError 404', () => {
    expect(r.missingTag).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 404, message: expect.stringContaining('no-such-tag') } });
    expect(r.missingRepo).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 404 } });
  });
});

describe('abort and content that does not match its digest', () => {
  let r: Result<'abortAndCorruption'>;
  beforeAll(async () => {
    r = await run('abortAndCorruption');
  });

  test('an aborted pull rejects with AbortError and leaves no partial blob, no manifest', () => {
    expect(r.aborted).toMatchObject({ ok: false, error: { name: 'AbortError' } });
    expect(r.afterAbort.blobs).not.toContain(r.bigLayer);
    expect(r.afterAbort.blobs).not.toContain(r.manifestDigest);
    expect(r.afterAbort.ingest).toEqual([]);
  });

  test('the next pull finishes the job', () => {
    expect(r.resumedDigest).toBe(r.manifestDigest);
    expect(r.resumedCompared.stored).toEqual(r.resumedCompared.wanted);
    expect(r.resumedCompared.mismatched).toEqual([]);
  });

  test('a layer whose bytes differ from its digest is refused and not stored', () => {
    expect(r.corruptLayer).toMatchObject({ ok: false, error: { message: expect.stringContaining(r.bigLayer) } });
    expect(r.afterCorrupt.blobs).not.toContain(r.bigLayer);
    expect(r.afterCorrupt.blobs).not.toContain(r.manifestDigest);
    expect(r.afterCorrupt.ingest).toEqual([]);
  });

  test('a resume answered with the whole blob (Range ignored) skips the bytes already received', () => {
    expect(r.noRangeRequests).toEqual(['reset-mid-body', 'ignore-range']);
    expect(r.noRange).toEqual({ ok: true, digest: r.manifestDigest });
    expect(r.noRangeCompared.stored).toEqual(r.noRangeCompared.wanted);
    expect(r.noRangeCompared.mismatched).toEqual([]);
  });

  test('a layer longer than its descriptor says is refused and not stored', () => {
    expect(r.longLayer).toMatchObject({ ok: false, error: { name: 'RegistryError', message: expect.stringContaining('larger than') } });
    expect(r.afterLong.blobs).not.toContain(r.bigLayer);
    expect(r.afterLong.ingest).toEqual([]);
  });

  test('a manifest that does not match the digest asked for is refused before anything is fetched', () => {
    expect(r.swappedManifest).toMatchObject({ ok: false, error: { name: 'RegistryError', message: expect.stringContaining('does not match its digest') } });
    expect(r.afterSwap).toEqual([]);
  });
});

describe('TLS with a private CA', () => {
  let r: Result<'pullOverTls'>;
  beforeAll(async () => {
    r = await run('pullOverTls');
  });

  test('trusted through <dataRoot>/certs.d/<registry>/ca.crt', () => {
    expect(r.trusted).toEqual({ ok: true, digest: r.expectedDigest });
  });

  test('without it the certificate is refused (no fallback to plain HTTP), saying where the CA goes', () => {
    expect(r.untrusted).toMatchObject({ ok: false, error: { name: 'RegistryError', status: null, message: expect.stringContaining('certs.d/127.0.0.1:') } });
    expect(r.untrustedBlobs).toEqual([]);
  });
});

test('two processes pulling the same image into one store at once both succeed, the store whole', async () => {
  const r = await run('twoProcessesPullAtOnce');
  expect(r.digests).toEqual([r.expectedDigest, r.expectedDigest]);
  expect(r.compared.stored).toEqual(r.compared.wanted);
  expect(r.compared.mismatched).toEqual([]);
  expect(r.compared.leftoverIngest).toEqual([]);
  expect(r.listed).toEqual([{ digest: r.expectedDigest, references: [expect.stringMatching(/\/tools\/two:v1$/)] }]);
});

describe('ImageStore.pull and push on the real registry', () => {
  let r: Result<'imageStorePullPush'>;
  beforeAll(async () => {
    r = await run('imageStorePullPush');
  });

  test('a short name is searched in order: the first registry lacks it, the second has it', () => {
    expect(r.image.digest).toBe(r.expectedDigest);
    expect(r.image.references).toEqual([`${r.registryHost}/tools/two:v1`]);
    expect(r.listed).toEqual([[`${r.registryHost}/tools/two:v1`]]);
    expect(r.image.config).toMatchObject({ Cmd: ['/bin/sh', '-c', 'echo hi'] });
  });

  test('the layers are unpacked, top first, and the top layer holds its own files', () => {
    expect(r.image.layers).toBe(2);
    expect(r.layerFiles).toEqual([['hello', 'second'], ['hello']]);
    expect(r.topHello).toBe('hello again\n');
    for (const layer of Object.values(r.progress)) expect(layer.phases).toEqual(['download', 'verify', 'unpack', 'done']);
  });

  test('push mounts every blob from the image\'s repository on the same registry and keeps the digest', () => {
    expect(r.pushed).toEqual({ digest: r.expectedDigest });
    expect(r.pushMounts).toBe(3);
    expect(r.pushBlobPuts).toBe(0);
  });

  test('the pushed image pulls back byte-equal into another store', () => {
    expect(r.pulledBack.digest).toBe(r.expectedDigest);
    expect(r.pulledBack.id).toBe(r.image.id);
    expect(r.sameBlobs).toBe(true);
  });

  test('a short name without search registries, a name no registry has, and a push target without a registry fail clearly', () => {
    expect(r.unconfigured).toMatchObject({ ok: false, error: { name: 'RegistryError', code: 'EREGISTRY', message: expect.stringMatching(/no search registries/) } });
    expect(r.nowhere).toMatchObject({ ok: false, error: { name: 'RegistryError', status: 404 } });
    expect(r.shortPush).toMatchObject({ ok: false, error: { name: 'TypeError', message: expect.stringMatching(/names no registry/) } });
  });
});

test('downloads take turns, each giving its turn once its body is in, before the store has synced it', async () => {
  const r = await run('downloadTurns');
  expect(r.ok).toBe(true);
  expect(r.stored).toBe(r.layers);
  expect(r.mostAtOnce).toBeLessThanOrEqual(2);
  // Every layer's download starts while the first ones are still being stored.
  expect(r.events).toEqual([...Array(r.layers).fill('start'), ...Array(r.layers).fill('stored')]);
});

test('an image pulled from the registry runs: its Cmd, its top layer', async () => {
  const r = await run('pullThenRun');
  expect(r.cmd).toEqual(['/bin/sh']);
  expect(r.out).toEqual({ exitCode: 0, stdout: 'the only file left in etc/opq\n0 /\n', stderr: '' });
});
