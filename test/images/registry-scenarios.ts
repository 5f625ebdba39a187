/**
 * The registry scenarios: each runs inside a fresh network namespace (test/support/
 * test-network.ts), starts a real docker-registry there, fills it with skopeo from umoci-made
 * layouts, runs the library's pull or push, and returns what the test asserts on as JSON.
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { pull, type PullContentStore, type PullLayerStore, type PullProgress, type RegistryReference } from '../../lib/images/pull';
import { push } from '../../lib/images/push';
import { ContentStore } from '../../lib/images/content-store';
import { ImageStore } from '../../lib/images/image-store';
import { Container } from '../../lib';
import { runCgroupParent } from '../support/unique';
import { buildTestImage } from '../support/test-images';
import { RegistryClient } from '../../lib/images/registry/client';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy';
import { makeTestCa, startRegistry, startTokenIssuer, type TestRegistry } from '../support/registry-server';
import { writeCredentialHelper } from '../support/credential-helper-script';
import { addPlatformIndex, blobPath, buildImage, skopeoPull, skopeoPush, taggedManifest } from '../support/registry-test-images';

/** What an error looked like, for the test to assert on. */
export interface ErrorFacts {
  name: string;
  code?: string;
  /** null where the error has no status (no reply came). */
  status?: number | null;
  message: string;
}

function facts(error: unknown): ErrorFacts {
  const e = error as { name: string; code?: string; status?: number; message: string };
  return { name: e.name, code: e.code, status: 'status' in e ? (e.status ?? null) : undefined, message: e.message };
}

async function outcome<T>(work: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: ErrorFacts }> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    return { ok: false, error: facts(error) };
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

function ref(host: string, repository: string, tag: string): RegistryReference {
  return { registry: host, repository, tag };
}

/** A workspace removed at the end of the scenario. */
async function inWorkspace<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-registry-'));
  try {
    return await work(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A layer store that records what the pull asks of it and checks the layer the way an unpack
 * would see it: the gunzipped stream must hash to the diff id the config names.
 */
class CheckingLayerStore implements PullLayerStore {
  /** In the order of the calls (the unpacks run at once, and may end in any order). */
  readonly calls: { chainId: string; parent: string | null; digest: string; diffId: string; unpackedDigest: string; parentReady: boolean }[] = [];
  async ensure(
    chainId: string,
    parent: string | null,
    openBlob: () => Readable,
    layer: { mediaType: string; diffId: string; digest: string; parentReady?: Promise<unknown> },
  ): Promise<void> {
    const call = { chainId, parent, digest: layer.digest, diffId: layer.diffId, unpackedDigest: '', parentReady: layer.parentReady !== undefined };
    this.calls.push(call);
    const hash = crypto.createHash('sha256');
    const source = openBlob();
    const stream = layer.mediaType.endsWith('gzip') ? source.pipe(zlib.createGunzip()) : source;
    for await (const chunk of stream) hash.update(chunk as Buffer);
    call.unpackedDigest = `sha256:${hash.digest('hex')}`;
  }
}

/** Two layers, the first with 3 MiB of random bytes (incompressible: a body long enough to cut). */
function buildTwoLayerImage(layout: string, tag = 'v1'): void {
  buildImage(
    layout,
    tag,
    [{ 'data/random.bin': crypto.randomBytes(3 * 1024 * 1024), 'etc/hello': 'hello\n' }, { 'etc/second': 'second layer\n', 'etc/hello': 'hello again\n' }],
    { cmd: ['/bin/sh', '-c', 'echo hi'], env: ['GREETING=hi'] },
  );
}

interface TwoLayerSetup {
  dir: string;
  registry: TestRegistry;
  /** The fault proxy in front of the registry. */
  proxy: FaultProxy;
  layout: string;
  /** The layout's (and the registry's) manifest of tools/two:v1. */
  manifestDigest: string;
  manifest: { config: { digest: string }; layers: { digest: string; size: number }[] };
}

/** A registry with buildTwoLayerImage pushed by skopeo as tools/two:v1, a fault proxy in front. */
async function withTwoLayerImage<T>(work: (setup: TwoLayerSetup) => Promise<T>): Promise<T> {
  return inWorkspace(async (dir) => {
    const registry = await startRegistry(path.join(dir, 'registry'));
    const proxy = await startFaultProxy(registry.port);
    try {
      const layout = path.join(dir, 'layout');
      buildTwoLayerImage(layout);
      await skopeoPush(layout, 'v1', `${registry.host}/tools/two:v1`);
      const manifestDigest = taggedManifest(layout, 'v1').digest;
      const manifest = JSON.parse(fs.readFileSync(blobPath(layout, manifestDigest), 'utf8')) as TwoLayerSetup['manifest'];
      return await work({ dir, registry, proxy, layout, manifestDigest, manifest });
    } finally {
      await proxy.stop();
      await registry.stop();
    }
  });
}

/** What an interrupted ingest left in the store's ingest directory (none there: nothing). */
function ingestLeft(store: ContentStore): string[] {
  const dir = path.join(store.root, 'ingest');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** The store's blobs compared with the layout's: every one byte-equal, the manifest's all there. */
async function compareWithLayout(store: ContentStore, layout: string, manifestDigest: string) {
  const manifest = JSON.parse(fs.readFileSync(blobPath(layout, manifestDigest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const wanted = [manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)].sort();
  const stored = (await store.list()).sort();
  const mismatched = stored.filter((d) => sha256(fs.readFileSync(store.path(d))) !== d || !fs.readFileSync(store.path(d)).equals(fs.readFileSync(blobPath(layout, d))));
  return { wanted, stored, mismatched, leftoverIngest: ingestLeft(store) };
}

function progressSummary(events: PullProgress[]) {
  const byLayer: Record<string, { phases: string[]; lastDownload?: number; total: number }> = {};
  for (const e of events) {
    const entry = (byLayer[e.layer] ??= { phases: [], total: e.total });
    if (entry.phases[entry.phases.length - 1] !== e.phase) entry.phases.push(e.phase);
    if (e.phase === 'download') entry.lastDownload = e.bytes;
  }
  return byLayer;
}

/** Anonymous pull from a registry without auth: the blobs, the layers, the progress. */
export async function pullWithoutAuth() {
  return withTwoLayerImage(async ({ dir, registry, layout, manifestDigest }) => {
    const store = new ContentStore(path.join(dir, 'store'));
    const layers = new CheckingLayerStore();
    const events: PullProgress[] = [];
    const result = await pull(store, ref(registry.host, 'tools/two', 'v1'), { layers, onProgress: (e) => events.push(e) });
    // A second pull finds everything in the store and downloads nothing.
    const again: PullProgress[] = [];
    await pull(store, ref(registry.host, 'tools/two', 'v1'), { onProgress: (e) => again.push(e) });
    return {
      expectedDigest: manifestDigest,
      digest: result.digest,
      id: result.id,
      config: result.config.config,
      diffIds: result.diffIds,
      chainIds: result.chainIds,
      layerCalls: layers.calls,
      compared: await compareWithLayout(store, layout, manifestDigest),
      progress: progressSummary(events),
      layerSizes: result.manifest.layers.map((l) => l.size),
      secondPullDownloads: again.filter((e) => e.phase === 'download').length,
    };
  });
}

/** An environment with no auth file to find: a pull is anonymous unless given credentials. */
function bareEnv(dir: string): NodeJS.ProcessEnv {
  const home = path.join(dir, 'empty-home');
  fs.mkdirSync(home, { recursive: true });
  return { HOME: home };
}

function authFileJson(key: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [key]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
}

/** A registry with htpasswd (bcrypt) basic auth: refused without or with wrong credentials, and every way of giving them. */
export async function pullWithHtpasswd() {
  return inWorkspace(async (dir) => {
    const registry = await startRegistry(path.join(dir, 'registry'), { kind: 'htpasswd', users: { alice: 'secret-1' } });
    try {
      const layout = path.join(dir, 'layout');
      buildImage(layout, 'v1', [{ 'etc/motd': 'basic auth\n' }]);
      await skopeoPush(layout, 'v1', `${registry.host}/private/app:v1`, { creds: 'alice:secret-1' });
      const target = ref(registry.host, 'private/app', 'v1');
      let n = 0;
      const attempt = async (options: Parameters<typeof pull>[2]) => {
        const store = new ContentStore(path.join(dir, `store-${n++}`));
        const result = await outcome(pull(store, target, options));
        return { result: result.ok ? { ok: true, digest: result.value.digest } : result, blobs: (await store.list()).length };
      };

      const authFile = path.join(dir, 'auth.json');
      fs.writeFileSync(authFile, authFileJson(registry.host, 'alice', 'secret-1'));
      const dockerHome = path.join(dir, 'docker-home');
      fs.mkdirSync(path.join(dockerHome, '.docker'), { recursive: true });
      fs.writeFileSync(path.join(dockerHome, '.docker', 'config.json'), authFileJson(`http://${registry.host}/v2/`, 'alice', 'secret-1'));
      const wrongFile = path.join(dir, 'wrong.json');
      fs.writeFileSync(wrongFile, authFileJson(registry.host, 'alice', 'not-it'));

      return {
        expectedDigest: taggedManifest(layout, 'v1').digest,
        anonymous: await attempt({ env: bareEnv(dir) }),
        wrongPassword: await attempt({ env: bareEnv(dir), auth: { username: 'alice', password: 'nope' } }),
        withAuthOption: await attempt({ env: bareEnv(dir), auth: { username: 'alice', password: 'secret-1' } }),
        fromRegistryAuthFile: await attempt({ env: { ...bareEnv(dir), REGISTRY_AUTH_FILE: authFile } }),
        fromDockerConfig: await attempt({ env: { HOME: dockerHome } }),
        wrongInAuthFile: await attempt({ env: { ...bareEnv(dir), REGISTRY_AUTH_FILE: wrongFile } }),
        redirected: await pullRedirected(dir, registry.port, target, manifestOf(layout, 'v1').layers[0].digest),
        pingWithCredentials: await outcome(new RegistryClient(registry.host, { env: bareEnv(dir), credentials: { username: 'alice', password: 'secret-1' } }).ping()),
        pingAnonymous: await outcome(new RegistryClient(registry.host, { env: bareEnv(dir) }).ping()),
      };
    } finally {
      await registry.stop();
    }
  });
}

function manifestOf(layout: string, tag: string): { layers: { digest: string }[] } {
  return JSON.parse(fs.readFileSync(blobPath(layout, taggedManifest(layout, tag).digest), 'utf8'));
}

/**
 * A pull with credentials whose layer is redirected to another origin: the credentials go to
 * the registry and never to the redirect's target.
 */
async function pullRedirected(dir: string, registryPort: number, target: RegistryReference, layer: string) {
  const proxy = await startFaultProxy(registryPort, { storageAuthorization: `Basic ${Buffer.from('alice:secret-1').toString('base64')}` });
  try {
    proxy.addFault({ method: 'GET', path: new RegExp(`/blobs/${layer}$`), fault: { kind: 'redirect' }, times: 1 });
    const store = new ContentStore(path.join(dir, 'redirected'));
    const result = await pull(store, { ...target, registry: proxy.host }, { env: bareEnv(dir), auth: { username: 'alice', password: 'secret-1' } });
    return {
      digest: result.digest,
      layerRequests: proxy.log.filter((l) => l.path.endsWith(layer)).map((l) => ({ via: l.via, authorization: l.authorization })),
    };
  } finally {
    await proxy.stop();
  }
}

/** A registry with token auth: a small issuer signs JWTs the registry checks against the issuer's certificate. */
export async function tokenAuth() {
  return inWorkspace(async (dir) => {
    const issuer = await startTokenIssuer(dir, { bob: 'token-pw' }, true);
    const registry = await startRegistry(path.join(dir, 'registry'), { kind: 'token', token: issuer.config });
    try {
      const layout = path.join(dir, 'layout');
      buildImage(layout, 'v1', [{ 'etc/motd': 'token auth\n' }, { 'etc/more': 'x\n' }]);
      await skopeoPush(layout, 'v1', `${registry.host}/team/app:v1`, { creds: 'bob:token-pw' });
      const env = bareEnv(dir);
      const bob = { username: 'bob', password: 'token-pw' };

      issuer.requests.length = 0;
      const anonStore = new ContentStore(path.join(dir, 'anon'));
      const anonymous = await outcome(pull(anonStore, ref(registry.host, 'team/app', 'v1'), { env }));
      const anonymousTokenRequests = issuer.requests.splice(0);

      const bobStore = new ContentStore(path.join(dir, 'bob'));
      const withCredentials = await outcome(pull(bobStore, ref(registry.host, 'team/app', 'v1'), { env, auth: bob }));
      const credentialTokenRequests = issuer.requests.splice(0);

      const wrong = await outcome(pull(new ContentStore(path.join(dir, 'wrong')), ref(registry.host, 'team/app', 'v1'), { env, auth: { username: 'bob', password: 'bad' } }));

      const digest = withCredentials.ok ? withCredentials.value.digest : '';
      const anonymousPush = await outcome(push(bobStore, digest, ref(registry.host, 'team/copy', 'v1'), { env }));
      const bobPush = await outcome(push(bobStore, digest, ref(registry.host, 'team/copy', 'v1'), { env, auth: bob }));
      const pushTokenRequests = issuer.requests.splice(0);
      const back = path.join(dir, 'back');
      await skopeoPull(`${registry.host}/team/copy:v1`, back, 'v1', { creds: 'bob:token-pw' });

      return {
        expectedDigest: taggedManifest(layout, 'v1').digest,
        anonymous: anonymous.ok ? { ok: true, digest: anonymous.value.digest } : anonymous,
        anonymousTokenRequests,
        withCredentials: withCredentials.ok ? { ok: true, digest: withCredentials.value.digest } : withCredentials,
        credentialTokenRequests,
        wrong,
        anonymousPush,
        bobPush,
        pushTokenRequests,
        pushedBackDigest: taggedManifest(back, 'v1').digest,
      };
    } finally {
      await registry.stop();
      await issuer.stop();
    }
  });
}

/**
 * Credentials as docker and podman keep them, against token auth that refuses anonymous
 * pulls: an identitytoken in an auth file (the OAuth2 refresh-token grant, and GET with basic
 * auth where the realm takes no POST), a credHelpers helper, a credsStore helper holding an
 * identity token, a helper that is not installed and a refresh token the issuer refuses.
 */
export async function credentialHelpersAndIdentityTokens() {
  return inWorkspace(async (dir) => {
    const issuer = await startTokenIssuer(dir, { carol: 'carol-pw' }, false, { refreshTokens: { 'refresh-carol': 'carol' } });
    const registry = await startRegistry(path.join(dir, 'registry'), { kind: 'token', token: issuer.config });
    try {
      const layout = path.join(dir, 'layout');
      buildImage(layout, 'v1', [{ 'etc/motd': 'helpers\n' }]);
      await skopeoPush(layout, 'v1', `${registry.host}/team/app:v1`, { creds: 'carol:carol-pw' });
      const target = ref(registry.host, 'team/app', 'v1');
      let n = 0;
      /** A pull with HOME (and every other auth file place) in a fresh temp dir holding `dockerConfig`. */
      const attempt = async (dockerConfig: unknown, binDir?: string) => {
        const home = path.join(dir, `home-${n}`);
        fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
        fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify(dockerConfig));
        const env = { HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run'), PATH: [binDir, process.env.PATH].filter(Boolean).join(':') };
        const store = new ContentStore(path.join(dir, `store-${n++}`));
        issuer.requests.length = 0;
        const result = await outcome(pull(store, target, { env }));
        return {
          result: result.ok ? { ok: true, digest: result.value.digest } : result,
          blobs: (await store.list()).length,
          tokenRequests: issuer.requests.splice(0),
        };
      };

      const anonymous = await attempt({});
      const identityToken = await attempt({ auths: { [registry.host]: { auth: Buffer.from('carol:').toString('base64'), identitytoken: 'refresh-carol' } } });
      issuer.setAcceptPost(false);
      const identityTokenWithoutPost = await attempt({ auths: { [registry.host]: { identitytoken: 'refresh-carol' } } });
      issuer.setAcceptPost(true);
      const wrongIdentityToken = await attempt({ auths: { [registry.host]: { identitytoken: 'refresh-mallory' } } });

      const passwordHelper = writeCredentialHelper(path.join(dir, 'helper-a'), 'test-pass', { [registry.host]: { Username: 'carol', Secret: 'carol-pw' } });
      const credHelpers = await attempt({ credHelpers: { [registry.host]: 'test-pass' }, auths: { [registry.host]: { auth: Buffer.from('carol:wrong').toString('base64') } } }, passwordHelper.binDir);
      const tokenHelper = writeCredentialHelper(path.join(dir, 'helper-b'), 'test-store', { [registry.host]: { Username: '<token>', Secret: 'refresh-carol' } });
      const credsStore = await attempt({ credsStore: 'test-store' }, tokenHelper.binDir);
      const missingHelper = await attempt({ credHelpers: { [registry.host]: 'not-installed' } });

      // A push with the identity token: the refresh-token grant asks for pull and push.
      const pushStore = new ContentStore(path.join(dir, 'push-store'));
      const pushHome = path.join(dir, 'push-home');
      fs.mkdirSync(pushHome, { recursive: true });
      const pushAuthFile = path.join(dir, 'push-auth.json');
      fs.writeFileSync(pushAuthFile, JSON.stringify({ auths: { [registry.host]: { identitytoken: 'refresh-carol' } } }));
      const pushEnv = { HOME: pushHome, REGISTRY_AUTH_FILE: pushAuthFile };
      const pulled = await pull(pushStore, target, { env: pushEnv });
      issuer.requests.length = 0;
      const pushed = await outcome(push(pushStore, pulled.digest, ref(registry.host, 'team/copy', 'v1'), { env: pushEnv }));
      const pushTokenRequests = issuer.requests.splice(0);
      const back = path.join(dir, 'back');
      await skopeoPull(`${registry.host}/team/copy:v1`, back, 'v1', { creds: 'carol:carol-pw' });

      return {
        expectedDigest: taggedManifest(layout, 'v1').digest,
        host: registry.host,
        anonymous,
        identityToken,
        identityTokenWithoutPost,
        wrongIdentityToken,
        credHelpers,
        credHelpersAsked: passwordHelper.asked(),
        credsStore,
        credsStoreAsked: tokenHelper.asked(),
        missingHelper,
        pushed: pushed.ok ? { ok: true, digest: pushed.value.digest } : pushed,
        pushTokenRequests,
        pushedBackDigest: taggedManifest(back, 'v1').digest,
      };
    } finally {
      await registry.stop();
      await issuer.stop();
    }
  });
}

/** Pull through the fault proxy: 5xx, a reset before the reply, a reset in the middle of a blob, a redirect. */
export async function pullThroughFaults() {
  return withTwoLayerImage(async ({ dir, proxy, layout, manifestDigest, manifest }) => {
    const [big, small] = manifest.layers.map((l) => l.digest);
    const blob = (digest: string) => new RegExp(`/blobs/${digest}$`);
    const rules: FaultRule[] = [
      { method: 'GET', path: /\/manifests\/v1$/, fault: { kind: 'status', status: 503 }, times: 2 },
      { method: 'GET', path: blob(manifest.config.digest), fault: { kind: 'reset' }, times: 1 },
      { method: 'GET', path: blob(big), fault: { kind: 'reset-mid-body', afterBytes: 1024 * 1024 }, times: 2 },
      { method: 'GET', path: blob(small), fault: { kind: 'redirect' }, times: 1 },
    ];
    rules.forEach((r) => proxy.addFault(r));
    const store = new ContentStore(path.join(dir, 'store'));
    const result = await pull(store, ref(proxy.host, 'tools/two', 'v1'), { retry: { baseDelayMs: 5 } });
    const faultedLog = proxy.log.splice(0);

    // 5xx past the retries: a RegistryError with the status, nothing stored.
    proxy.addFault({ method: 'GET', path: /\/manifests\/v1$/, fault: { kind: 'status', status: 500 }, times: 100 });
    const failStore = new ContentStore(path.join(dir, 'fail'));
    const exhausted = await outcome(pull(failStore, ref(proxy.host, 'tools/two', 'v1'), { retry: { retries: 2, baseDelayMs: 5 } }));
    const exhaustedManifestRequests = proxy.log.filter((l) => l.path.endsWith('/manifests/v1')).length;

    return {
      digest: result.digest,
      expectedDigest: manifestDigest,
      compared: await compareWithLayout(store, layout, manifestDigest),
      manifestRequests: faultedLog.filter((l) => l.path.endsWith('/manifests/v1')).map((l) => l.fault ?? 'ok'),
      configRequests: faultedLog.filter((l) => l.path.endsWith(manifest.config.digest)).map((l) => l.fault ?? 'ok'),
      bigLayerRequests: faultedLog.filter((l) => l.path.endsWith(big)).map((l) => ({ fault: l.fault ?? 'ok', range: l.range ?? null })),
      bigLayerSize: fs.statSync(blobPath(layout, big)).size,
      smallLayerRequests: faultedLog.filter((l) => l.path.endsWith(small)).map((l) => ({ via: l.via, fault: l.fault ?? 'ok' })),
      exhausted,
      exhaustedManifestRequests,
      exhaustedBlobs: (await failStore.list()),
    };
  });
}

/** Image indexes with platforms, Docker v2s2 manifests, pull by digest, a missing tag. */
export async function platformsAndFormats() {
  return inWorkspace(async (dir) => {
    const registry = await startRegistry(path.join(dir, 'registry'));
    try {
      const layout = path.join(dir, 'layout');
      buildImage(layout, 'amd', [{ 'etc/arch': 'amd64\n' }]);
      buildImage(layout, 'arm', [{ 'etc/arch': 'arm64\n' }]);
      const indexDigest = addPlatformIndex(layout, 'multi', [
        { tag: 'amd', platform: { os: 'linux', architecture: 'amd64' } },
        { tag: 'arm', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ]);
      await skopeoPush(layout, 'multi', `${registry.host}/multi/app:v1`, { all: true });
      await skopeoPush(layout, 'amd', `${registry.host}/docker/app:v1`, { format: 'v2s2' });
      const store = () => new ContentStore(path.join(dir, `store-${crypto.randomBytes(4).toString('hex')}`));
      const multi = ref(registry.host, 'multi/app', 'v1');

      const hostDefault = await pull(store(), multi);
      const arm = await pull(store(), multi, { platform: 'linux/arm64' });
      const armV8 = await pull(store(), multi, { platform: 'linux/arm64/v8' });
      const missingPlatform = await outcome(pull(store(), multi, { platform: 'linux/s390x' }));
      const byDigest = await pull(store(), { registry: registry.host, repository: 'multi/app', digest: arm.digest });
      const dockerStore = store();
      const docker = await pull(dockerStore, ref(registry.host, 'docker/app', 'v1'));
      const missingTag = await outcome(pull(store(), ref(registry.host, 'multi/app', 'no-such-tag')));
      const missingRepo = await outcome(pull(store(), ref(registry.host, 'no/such', 'v1')));
      return {
        arch: process.arch,
        amdDigest: taggedManifest(layout, 'amd').digest,
        armDigest: taggedManifest(layout, 'arm').digest,
        indexDigest,
        hostDefault: { digest: hostDefault.digest, indexDigest: hostDefault.indexDigest },
        arm: { digest: arm.digest, indexDigest: arm.indexDigest },
        armV8: armV8.digest,
        missingPlatform,
        byDigest: byDigest.digest,
        docker: {
          mediaType: docker.manifest.mediaType,
          layerMediaTypes: docker.manifest.layers.map((l) => l.mediaType),
          configMediaType: docker.manifest.config.mediaType,
          storedManifest: await dockerStore.has(docker.digest),
          diffIds: docker.diffIds,
        },
        missingTag,
        missingRepo,
      };
    } finally {
      await registry.stop();
    }
  });
}

/** An aborted pull and blobs or manifests that do not match their digests leave nothing partial. */
export async function abortAndCorruption() {
  return withTwoLayerImage(async ({ dir, registry, proxy, layout, manifestDigest, manifest }) => {
    buildImage(layout, 'other', [{ 'etc/other': 'other\n' }]);
    await skopeoPush(layout, 'other', `${registry.host}/tools/two:other`);
    const big = manifest.layers[0];
    const target = ref(proxy.host, 'tools/two', 'v1');

    // Abort as soon as the big layer starts to come in.
    const abortStore = new ContentStore(path.join(dir, 'abort'));
    const controller = new AbortController();
    const aborted = await outcome(
      pull(abortStore, target, {
        signal: controller.signal,
        onProgress: (e) => {
          if (e.layer === big.digest && e.phase === 'download') controller.abort();
        },
      }),
    );
    const afterAbort = { blobs: (await abortStore.list()), ingest: ingestLeft(abortStore) };
    const resumed = await pull(abortStore, target);

    // The big layer's bytes replaced by others of the same length.
    proxy.addFault({ method: 'GET', path: new RegExp(`/blobs/${big.digest}$`), fault: { kind: 'body', body: crypto.randomBytes(big.size) }, times: 1 });
    const corruptStore = new ContentStore(path.join(dir, 'corrupt'));
    const corruptLayer = await outcome(pull(corruptStore, target, { retry: { baseDelayMs: 5 } }));
    const afterCorrupt = { blobs: (await corruptStore.list()), ingest: ingestLeft(corruptStore) };

    // Cut in the middle, then a server that ignores Range: the bytes already there are skipped.
    const bigPath = new RegExp(`/blobs/${big.digest}$`);
    proxy.addFault({ method: 'GET', path: bigPath, fault: { kind: 'reset-mid-body', afterBytes: 512 * 1024 }, times: 1 });
    proxy.addFault({ method: 'GET', path: bigPath, fault: { kind: 'ignore-range' }, times: 1 });
    proxy.log.splice(0);
    const noRangeStore = new ContentStore(path.join(dir, 'no-range'));
    const noRange = await outcome(pull(noRangeStore, target, { retry: { baseDelayMs: 5 } }));
    const noRangeRequests = proxy.log.filter((l) => l.path.endsWith(big.digest)).map((l) => l.fault ?? 'ok');

    // The big layer's bytes with more after them: refused as soon as they pass the size.
    proxy.addFault({ method: 'GET', path: new RegExp(`/blobs/${big.digest}$`), fault: { kind: 'body', body: crypto.randomBytes(big.size + 4096) }, times: 1 });
    const longStore = new ContentStore(path.join(dir, 'long'));
    const longLayer = await outcome(pull(longStore, target, { retry: { baseDelayMs: 5 } }));
    const afterLong = { blobs: (await longStore.list()), ingest: ingestLeft(longStore) };

    // A manifest asked for by digest whose bytes are another manifest's.
    const otherBytes = fs.readFileSync(blobPath(layout, taggedManifest(layout, 'other').digest));
    proxy.addFault({ method: 'GET', path: new RegExp(`/manifests/${manifestDigest}$`), fault: { kind: 'body', body: otherBytes }, times: 1 });
    const swapStore = new ContentStore(path.join(dir, 'swap'));
    const swappedManifest = await outcome(pull(swapStore, { registry: proxy.host, repository: 'tools/two', digest: manifestDigest }));

    return {
      bigLayer: big.digest,
      manifestDigest,
      aborted,
      afterAbort,
      resumedDigest: resumed.digest,
      resumedCompared: await compareWithLayout(abortStore, layout, manifestDigest),
      corruptLayer,
      afterCorrupt,
      longLayer,
      afterLong,
      noRange: noRange.ok ? { ok: true, digest: noRange.value.digest } : noRange,
      noRangeRequests,
      noRangeCompared: await compareWithLayout(noRangeStore, layout, manifestDigest),
      swappedManifest,
      afterSwap: (await swapStore.list()),
    };
  });
}

/** Push from the store: monolithic, chunked (with a retried chunk), a cross-repository mount, then pull back. */
export async function pushAndPullBack() {
  return withTwoLayerImage(async ({ dir, registry, proxy, layout }) => {
    const store = new ContentStore(path.join(dir, 'store'));
    const pulled = await pull(store, ref(registry.host, 'tools/two', 'v1'));
    const uploads = (log: typeof proxy.log) => ({
      posts: log.filter((l) => l.method === 'POST').length,
      patches: log.filter((l) => l.method === 'PATCH').length,
      blobPuts: log.filter((l) => l.method === 'PUT' && l.path.includes('/blobs/uploads/')).length,
      mounts: log.filter((l) => l.method === 'POST' && l.mount).length,
    });

    const mono = await push(store, pulled.digest, ref(proxy.host, 'copies/mono', 'v1'));
    const monoLog = uploads(proxy.log.splice(0));

    proxy.addFault({ method: 'PATCH', path: /\/blobs\/uploads\//, fault: { kind: 'reset' }, times: 1 });
    proxy.addFault({ method: 'PUT', path: /\/manifests\/v1$/, fault: { kind: 'status', status: 503 }, times: 1 });
    const chunked = await push(store, pulled.digest, ref(proxy.host, 'copies/chunked', 'v1'), { chunkSize: 1024 * 1024, retry: { baseDelayMs: 5 } });
    const chunkedLog = uploads(proxy.log.splice(0));

    const mounted = await push(store, pulled.digest, ref(proxy.host, 'copies/mounted', 'v1'), { mountFrom: ['copies/mono'] });
    const mountedLog = uploads(proxy.log.splice(0));

    // An aborted push rejects with the abort and puts no manifest up.
    const controller = new AbortController();
    const aborted = await outcome(push(store, pulled.digest, ref(proxy.host, 'copies/aborted', 'v1'), { signal: controller.signal, onProgress: () => controller.abort() }));
    const abortedManifest = await outcome(pull(new ContentStore(path.join(dir, 'aborted-check')), ref(registry.host, 'copies/aborted', 'v1')));
    proxy.log.splice(0);

    const again = await push(store, pulled.digest, ref(proxy.host, 'copies/mono', 'v2'));
    const againLog = uploads(proxy.log.splice(0));

    const backDigests: Record<string, string> = {};
    for (const repo of ['copies/mono', 'copies/chunked', 'copies/mounted']) {
      const back = path.join(dir, `back-${repo.replace('/', '-')}`);
      await skopeoPull(`${registry.host}/${repo}:v1`, back, 'v1');
      backDigests[repo] = taggedManifest(back, 'v1').digest;
    }
    const backStore = new ContentStore(path.join(dir, 'back-store'));
    const pulledBack = await pull(backStore, ref(registry.host, 'copies/chunked', 'v1'));

    return {
      source: pulled.digest,
      mono,
      monoLog,
      chunked,
      chunkedLog,
      mounted,
      mountedLog,
      aborted,
      abortedManifestStatus: abortedManifest.ok ? 200 : abortedManifest.error.status,
      again,
      againLog,
      backDigests,
      pulledBack: pulledBack.digest,
      backCompared: await compareWithLayout(backStore, layout, pulled.digest),
    };
  });
}


/**
 * A registry serving TLS with a certificate of a test CA: trusted through
 * <dataRoot>/certs.d/<registry>/ca.crt, refused without it (never a fallback to plain HTTP).
 */
export async function pullOverTls() {
  return inWorkspace(async (dir) => {
    const ca = makeTestCa(path.join(dir, 'ca'));
    const registry = await startRegistry(path.join(dir, 'registry'), { kind: 'none' }, ca.tls);
    try {
      const layout = path.join(dir, 'layout');
      buildImage(layout, 'v1', [{ 'etc/motd': 'over tls\n' }]);
      await skopeoPush(layout, 'v1', `${registry.host}/secure/app:v1`);
      const trusting = path.join(dir, 'data-root-trusting');
      fs.mkdirSync(path.join(trusting, 'certs.d', registry.host), { recursive: true });
      fs.copyFileSync(ca.caCert, path.join(trusting, 'certs.d', registry.host, 'ca.crt'));
      const untrusting = path.join(dir, 'data-root-untrusting');
      fs.mkdirSync(untrusting);

      const trustedStore = new ContentStore(path.join(dir, 'trusted'));
      const trusted = await outcome(pull(trustedStore, ref(registry.host, 'secure/app', 'v1'), { dataRoot: trusting }));
      const untrustedStore = new ContentStore(path.join(dir, 'untrusted'));
      const untrusted = await outcome(pull(untrustedStore, ref(registry.host, 'secure/app', 'v1'), { dataRoot: untrusting }));
      return {
        expectedDigest: taggedManifest(layout, 'v1').digest,
        trusted: trusted.ok ? { ok: true, digest: trusted.value.digest } : trusted,
        untrusted,
        untrustedBlobs: (await untrustedStore.list()),
      };
    } finally {
      await registry.stop();
    }
  });
}

/**
 * Two processes pull the same image into one store at once: both succeed, and the store holds
 * each blob once, complete and verified, with nothing left in its ingest directory.
 */
export async function twoProcessesPullAtOnce() {
  return withTwoLayerImage(async ({ dir, registry, layout, manifestDigest }) => {
    const storeRoot = path.join(dir, 'shared-store');
    const script = path.join(dir, 'pull-once.ts');
    fs.writeFileSync(
      script,
      `import { ImageStore } from ${JSON.stringify(path.resolve(__dirname, '../../lib/images/image-store'))};\n` +
        `new ImageStore(${JSON.stringify(storeRoot)}).pull(${JSON.stringify(`${registry.host}/tools/two:v1`)})` +
        `.then((image) => console.log(image.digest), (e) => { console.error(e); process.exit(1); });\n`,
    );
    const runOne = () => promisify(execFile)(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' }).then((r) => r.stdout.trim());
    const digests = await Promise.all([runOne(), runOne()]);
    return { digests, expectedDigest: manifestDigest, compared: await compareWithLayout(new ContentStore(storeRoot), layout, manifestDigest), listed: (await new ImageStore(storeRoot).list()).map((i) => ({ digest: i.digest, references: i.references })) };
  });
}

/**
 * Downloads take turns: at most `concurrency` layer bodies arrive at once, and a download gives
 * its turn once its body is in, not once the store has synced it. The store here holds each
 * layer's ingest open (a sync that takes long) until every layer's download has started, or
 * for 20 s when that never comes; what happened comes back in order.
 */
export async function downloadTurns() {
  return inWorkspace(async (dir) => {
    const registry = await startRegistry(path.join(dir, 'registry'));
    try {
      const layout = path.join(dir, 'layout');
      buildImage(layout, 'v1', [0, 1, 2, 3, 4].map((i) => ({ [`data/${i}.bin`]: crypto.randomBytes(512 * 1024) })));
      await skopeoPush(layout, 'v1', `${registry.host}/tools/turns:v1`);
      const manifest = JSON.parse(fs.readFileSync(blobPath(layout, taggedManifest(layout, 'v1').digest), 'utf8')) as { layers: { digest: string }[] };
      const layers = new Set(manifest.layers.map((l) => l.digest));
      const store = new ContentStore(path.join(dir, 'store'));
      const events: string[] = [];
      let transferring = 0;
      let mostAtOnce = 0;
      let allStarted: () => void = () => {};
      const everyLayerStarted = new Promise<void>((resolve) => {
        allStarted = resolve;
      });
      const started = new Set<string>();
      const slowSyncing: PullContentStore = {
        has: (digest) => store.has(digest),
        open: (digest) => store.open(digest),
        ingest: async (source, expected, signal) => {
          if (!layers.has(expected.digest)) return store.ingest(source, expected, signal);
          const counted = (offset: number) => {
            const stream = source(offset);
            transferring++;
            mostAtOnce = Math.max(mostAtOnce, transferring);
            events.push(`start ${expected.digest}`);
            started.add(expected.digest);
            if (started.size === layers.size) allStarted();
            stream.once('end', () => transferring--);
            return stream;
          };
          const stored = await store.ingest(counted, expected, signal);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([everyLayerStarted, new Promise<void>((resolve) => (timer = setTimeout(resolve, 20_000)))]);
          clearTimeout(timer);
          events.push(`stored ${expected.digest}`);
          return stored;
        },
      };
      const result = await outcome(pull(slowSyncing, ref(registry.host, 'tools/turns', 'v1'), { concurrency: 2 }));
      return { ok: result.ok, layers: layers.size, events: events.map((e) => e.split(' ')[0]), mostAtOnce, stored: (await store.list()).filter((d) => layers.has(d)).length };
    } finally {
      await registry.stop();
    }
  });
}

/** Every blob of a data root's content store, by digest: what two stores compare on. */
async function blobBytes(store: ContentStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const digest of (await store.list()).sort()) out[digest] = sha256(fs.readFileSync(store.path(digest)));
  return out;
}

/**
 * ImageStore.pull and push against the real registry: a short name searched through two
 * registries (the first without the image), the image listed and its layers unpacked, a push
 * that mounts the blobs from the image's own repository, and the pushed image pulled back
 * byte-equal into another store. Also: a short name with no search registries, and a name no
 * registry has.
 */
export async function imageStorePullPush() {
  return withTwoLayerImage(async ({ dir, registry, proxy, manifestDigest }) => {
    const empty = await startRegistry(path.join(dir, 'empty-registry'));
    try {
      const images = new ImageStore({ root: path.join(dir, 'data'), registries: { search: [empty.host, proxy.host] } });
      const events: PullProgress[] = [];
      const image = await images.pull('tools/two:v1', { onProgress: (e) => events.push(e) });
      const dirs = await images.layerDirs(image.references[0] as string);
      const pulledLog = proxy.log.splice(0).length;

      const pushed = await images.push(image.references[0] as string, `${proxy.host}/copies/pushed:v1`);
      const pushLog = proxy.log.splice(0);

      const back = new ImageStore({ root: path.join(dir, 'back') });
      const pulledBack = await back.pull(`${registry.host}/copies/pushed:v1`);

      const unconfigured = await outcome(new ImageStore({ root: path.join(dir, 'no-search') }).pull('tools/two:v1'));
      const nowhere = await outcome(images.pull('tools/missing:v1'));
      const shortPush = await outcome(images.push(image.id, 'copies/short:v1'));
      return {
        registryHost: proxy.host,
        emptyHost: empty.host,
        expectedDigest: manifestDigest,
        image: { id: image.id, digest: image.digest, references: image.references, config: image.config, layers: image.layers.length },
        listed: (await images.list()).map((i) => i.references),
        layerFiles: dirs.map((d) => fs.readdirSync(path.join(d, 'etc')).sort()),
        topHello: fs.readFileSync(path.join(dirs[0] as string, 'etc', 'hello'), 'utf8'),
        progress: progressSummary(events),
        pulledLog,
        pushed,
        pushMounts: pushLog.filter((l) => l.method === 'POST' && l.mount).length,
        pushBlobPuts: pushLog.filter((l) => l.method === 'PUT' && l.path.includes('/blobs/uploads/')).length,
        pulledBack: { digest: pulledBack.digest, id: pulledBack.id, references: pulledBack.references },
        sameBlobs: JSON.stringify(await blobBytes(images.content)) === JSON.stringify(await blobBytes(back.content)),
        unconfigured,
        nowhere,
        shortPush,
      };
    } finally {
      await empty.stop();
    }
  });
}

/**
 * A busybox image (umoci-built) pushed by skopeo, pulled by ImageStore.pull, then run: the
 * container's Cmd (sh, from the image) answers, and a file of the image's top layer is there.
 */
export async function pullThenRun() {
  return inWorkspace(async (dir) => {
    const registry = await startRegistry(path.join(dir, 'registry'));
    try {
      const img = buildTestImage('busybox', path.join(os.tmpdir(), 'tsc-test-images', 'busybox'));
      await skopeoPush(img.layout, img.tag, `${registry.host}/tools/busybox:1`);
      const images = new ImageStore({ root: path.join(dir, 'data') });
      const image = await images.pull(`${registry.host}/tools/busybox:1`);
      const c = new Container({ image: image.references[0], imageStore: images, cgroupParent: runCgroupParent('pull-run') });
      try {
        // No argv: the image's Cmd (sh), reading its script from stdin.
        const sh = c.spawn(undefined, { stdio: 'pipe' });
        sh.stdin?.end('cat /etc/opq/fresh; echo "$(id -u) $(pwd)"\n');
        const out = await sh.output();
        return { cmd: image.config.Cmd, out: { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr } };
      } finally {
        await c.destroy();
      }
    } finally {
      await registry.stop();
    }
  });
}
