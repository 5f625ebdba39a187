/**
 * Bad and hostile archives fail closed: a blob that is not what its name or descriptor says,
 * a manifest that does not match its digest, a layer that does not match the config's diff
 * id, a missing or out-of-layout blob, a truncated archive. Each rejects with
 * ImageArchiveError naming the entry, and leaves the store exactly as it was.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageArchiveError, ImageStore } from '../../lib';
import { buildOciLayout, busyboxImage, skopeoCopy } from '../support/image-fixtures';
import { gzipBytes, tarBytes, type TarSpecEntry } from '../support/tar-writer';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

let work: string;
let layout: string;
let dockerDir: string;
/** A store that already holds an image, to see that a failed import changes nothing in it. */
let store: ImageStore;

interface Manifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
}

beforeAll(async () => {
  work = tempDir('tsc-hostile-');
  layout = buildOciLayout(path.join(work, 'layout'), busyboxImage('1'));
  const archive = path.join(work, 'base.tar');
  skopeoCopy(`oci:${layout}:1`, `docker-archive:${archive}:base:1`);
  dockerDir = path.join(work, 'docker');
  fs.mkdirSync(dockerDir);
  execFileSync('tar', ['-xf', archive, '-C', dockerDir]);
  store = new ImageStore({ root: tempDir('tsc-hostile-root-') });
  const other = buildOciLayout(path.join(work, 'other'), { tag: 'o', layers: [{ files: { 'etc/other': 'other\n' } }] });
  fs.writeFileSync(path.join(other, 'index.json'), fs.readFileSync(path.join(other, 'index.json'), 'utf8').replace('"o"', '"other:1"'));
  await store.import(other);
});
afterAll(removeTempDirs);

function sha256(bytes: Buffer | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Every file under the data root with its content's hash. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(store.dataRoot, full)] = sha256(fs.readFileSync(full));
    }
  };
  walk(store.dataRoot);
  return out;
}

/** A copy of the clean layout to spoil. */
function layoutCopy(name: string): { dir: string; manifestDigest: string; manifest: Manifest; blob: (digest: string) => string } {
  const dir = path.join(work, name);
  fs.cpSync(layout, dir, { recursive: true });
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const manifestDigest: string = index.manifests[0].digest;
  const blob = (digest: string) => path.join(dir, 'blobs', 'sha256', digest.slice(7));
  return { dir, manifestDigest, manifest: JSON.parse(fs.readFileSync(blob(manifestDigest), 'utf8')), blob };
}

/** Writes a changed manifest under its own digest and points index.json at it. */
function replaceManifest(dir: string, manifest: Manifest): string {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const hex = sha256(bytes);
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', hex), bytes);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  index.manifests[0] = { ...index.manifests[0], digest: `sha256:${hex}`, size: bytes.length };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  return `sha256:${hex}`;
}

async function expectRefused(source: string, entry: string | RegExp, message?: RegExp): Promise<void> {
  const before = snapshot();
  const error = await store.import(source).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ImageArchiveError)) throw error;
  const { entry: got } = error as ImageArchiveError;
  if (typeof entry === 'string') expect(got).toBe(entry);
  else expect(got).toMatch(entry);
  if (message) expect((error as Error).message).toMatch(message);
  expect(snapshot()).toEqual(before);
}

describe('an OCI layout', () => {
  it('with a layer whose bytes differ from its digest', async () => {
    const { dir, manifest, blob } = layoutCopy('bad-layer');
    const top = manifest.layers[manifest.layers.length - 1];
    const bytes = fs.readFileSync(blob(top.digest));
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(blob(top.digest), bytes);
    await expectRefused(dir, `blobs/sha256/${top.digest.slice(7)}`, /content digest .* differs/);
  });

  it('with a layer whose size differs from the manifest', async () => {
    const { dir, manifest } = layoutCopy('bad-size');
    const top = manifest.layers[manifest.layers.length - 1];
    replaceManifest(dir, { ...manifest, layers: manifest.layers.map((l) => (l === top ? { ...l, size: l.size - 1 } : l)) });
    await expectRefused(dir, `blobs/sha256/${top.digest.slice(7)}`, /more bytes than/);
  });

  it('with a manifest that does not match its digest', async () => {
    const { dir, manifestDigest, blob } = layoutCopy('bad-manifest');
    const text = fs.readFileSync(blob(manifestDigest), 'utf8');
    // Same length, other bytes: only the digest can tell.
    const changed = text.replace(/"digest":"sha256:(.)/, (match, first: string) => match.slice(0, -1) + (first === 'a' ? 'b' : 'a'));
    expect(changed.length).toBe(text.length);
    fs.writeFileSync(blob(manifestDigest), changed);
    await expectRefused(dir, `blobs/sha256/${manifestDigest.slice(7)}`, /does not match/);
  });

  it('with a config that lists another number of layers', async () => {
    const { dir, manifest, blob } = layoutCopy('bad-config');
    const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8'));
    config.rootfs.diff_ids.pop();
    const bytes = Buffer.from(JSON.stringify(config));
    fs.writeFileSync(path.join(dir, 'blobs', 'sha256', sha256(bytes)), bytes);
    replaceManifest(dir, { ...manifest, config: { ...manifest.config, digest: `sha256:${sha256(bytes)}`, size: bytes.length } });
    await expectRefused(dir, `sha256:${sha256(bytes)}`, /diff ids for/);
  });

  it('with a missing blob', async () => {
    const { dir, manifest, blob } = layoutCopy('missing-blob');
    fs.rmSync(blob(manifest.layers[0].digest));
    await expectRefused(dir, `blobs/sha256/${manifest.layers[0].digest.slice(7)}`, /missing/);
  });

  it('with a blob that is a link out of the layout', async () => {
    const { dir, manifest, blob } = layoutCopy('link-out');
    const outside = path.join(work, 'outside-blob');
    fs.renameSync(blob(manifest.layers[0].digest), outside);
    fs.symlinkSync(outside, blob(manifest.layers[0].digest));
    await expectRefused(dir, `blobs/sha256/${manifest.layers[0].digest.slice(7)}`, /out of the layout/);
  });

  it('with a layer of a type the store cannot unpack', async () => {
    const { dir, manifest } = layoutCopy('bad-type');
    replaceManifest(dir, { ...manifest, layers: manifest.layers.map((l) => ({ ...l, mediaType: 'application/vnd.example.squashfs' })) });
    await expectRefused(dir, /layers\[0\]$/, /not a tar/);
  });
});

describe('a docker-archive', () => {
  function repack(name: string, change: (dir: string, manifest: { Config: string; Layers: string[] }[]) => void): string {
    const dir = path.join(work, name);
    fs.cpSync(dockerDir, dir, { recursive: true, verbatimSymlinks: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    change(dir, manifest);
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    const archive = `${dir}.tar`;
    execFileSync('tar', ['-cf', archive, '-C', dir, '.']);
    return archive;
  }

  it('with a layer that does not match the diff id its config gives', async () => {
    let layerName = '';
    const archive = repack('docker-bad-layer', (dir, manifest) => {
      layerName = manifest[0].Layers[1];
      // Two more zero blocks: still a tar that ends where it ended, but other bytes.
      fs.chmodSync(path.join(dir, layerName), 0o644);
      fs.appendFileSync(path.join(dir, layerName), Buffer.alloc(1024));
    });
    await expectRefused(archive, layerName, /diff id/);
  });

  it('with a config whose bytes differ from the digest its name claims', async () => {
    let configName = '';
    const archive = repack('docker-bad-config', (dir, manifest) => {
      configName = manifest[0].Config;
      const config = JSON.parse(fs.readFileSync(path.join(dir, configName), 'utf8'));
      config.config.Cmd = ['/bin/sh', '-c', 'something else'];
      fs.writeFileSync(path.join(dir, configName), JSON.stringify(config));
    });
    await expectRefused(archive, configName, /differs from the expected/);
  });

  it('with a layer file missing', async () => {
    let layerName = '';
    const archive = repack('docker-missing-layer', (dir, manifest) => {
      layerName = manifest[0].Layers[0];
      fs.rmSync(path.join(dir, layerName));
    });
    await expectRefused(archive, layerName, /missing from the archive/);
  });

  it('cut short', async () => {
    const whole = repack('docker-truncated', () => undefined);
    const cut = path.join(work, 'truncated.tar');
    const bytes = fs.readFileSync(whole);
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectRefused(cut, /truncated\.tar at byte \d+/, /truncated/);
  });
});

describe('a layer that would write outside its directory', () => {
  /** An OCI layout made here from layer tars (gzip), with a consistent config and manifest. */
  function layoutOf(name: string, layers: TarSpecEntry[][]): string {
    const dir = path.join(work, name);
    fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = (bytes: Buffer) => {
      fs.writeFileSync(path.join(dir, 'blobs', 'sha256', sha256(bytes)), bytes);
      return { digest: `sha256:${sha256(bytes)}`, size: bytes.length };
    };
    const tars = layers.map((entries) => tarBytes(entries));
    const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: tars.map((t) => `sha256:${sha256(t)}`) } })));
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: tars.map((t) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipBytes(t)) })),
        }),
      ),
    );
    fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    fs.writeFileSync(
      path.join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': `${name}:1` } }] }),
    );
    return dir;
  }

  const good: TarSpecEntry[] = [{ name: 'etc/', type: '5' }, { name: 'etc/good', data: 'fine\n' }];

  it('"../" in the second layer: refused, and the first layer unpacked before it goes too', async () => {
    const planted = path.join(work, 'escaped-by-dotdot');
    const dir = layoutOf('dotdot', [good, [{ name: `../../../../../../../../..${planted}`, data: 'planted' }]]);
    await expectRefused(dir, /escaped-by-dotdot$/);
    expect(fs.existsSync(planted)).toBe(false);
  });

  it('a symlink out of the layer, then a file written through it: refused, nothing outside', async () => {
    const outside = tempDir('tsc-hostile-outside-');
    const dir = layoutOf('through-link', [[{ name: 'out', type: '2', link: outside }, { name: 'out/planted', data: 'planted' }]]);
    await expectRefused(dir, /^out\/planted$/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('a hard link to a file outside: refused', async () => {
    const dir = layoutOf('hardlink-out', [good, [{ name: 'passwd', type: '1', link: '../../../../../../etc/passwd' }]]);
    await expectRefused(dir, /^passwd$/);
  });
});
