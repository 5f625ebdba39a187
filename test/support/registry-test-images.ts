/**
 * OCI image layouts for the registry tests, written by umoci (not by ts-container), and pushed
 * to a test registry by skopeo: the content a pull must get back byte for byte.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One layer: path inside the rootfs -> file content. */
export type LayerFiles = Record<string, string | Buffer>;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * An image of `layers` (bottom first) under `layout`:`tag`, made with umoci: each layer is an
 * unpack, the files written, and a repack. `cmd` and `env` go into the config.
 */
export function buildImage(layout: string, tag: string, layers: LayerFiles[], config: { cmd?: string[]; env?: string[] } = {}): void {
  if (!fs.existsSync(path.join(layout, 'oci-layout'))) run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:${tag}`]);
  for (const [i, files] of layers.entries()) {
    const bundle = `${layout}-bundle-${tag}-${i}`;
    run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(bundle, 'rootfs', name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    run('umoci', ['repack', '--image', `${layout}:${tag}`, bundle]);
    fs.rmSync(bundle, { recursive: true, force: true });
  }
  const args = ['config', '--image', `${layout}:${tag}`];
  for (const c of config.cmd ?? []) args.push('--config.cmd', c);
  for (const e of config.env ?? []) args.push('--config.env', e);
  if (args.length > 3) run('umoci', args);
  run('umoci', ['gc', '--layout', layout]);
}

interface IndexJson {
  schemaVersion: number;
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: Record<string, string> }[];
}

function readIndex(layout: string): IndexJson {
  return JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as IndexJson;
}

/** The manifest descriptor `tag` names in the layout. */
export function taggedManifest(layout: string, tag: string): IndexJson['manifests'][number] {
  const found = readIndex(layout).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!found) throw new Error(`${layout} has no tag ${tag}`);
  return found;
}

export function blobPath(layout: string, digest: string): string {
  return path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/**
 * Adds `tag` naming an image index of the given tags with the given platforms (the same image
 * may stand for several: the registry and the pull only see the descriptors).
 */
export function addPlatformIndex(layout: string, tag: string, entries: { tag: string; platform: { os: string; architecture: string; variant?: string } }[]): string {
  const manifests = entries.map((e) => {
    const { annotations: _ignored, ...descriptor } = taggedManifest(layout, e.tag);
    return { ...descriptor, platform: e.platform };
  });
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  const digest = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
  fs.writeFileSync(blobPath(layout, digest), bytes);
  const index = readIndex(layout);
  index.manifests.push({
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest,
    size: bytes.length,
    annotations: { 'org.opencontainers.image.ref.name': tag },
  });
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
  return digest;
}

/**
 * skopeo runs asynchronously: a token issuer of the same process must answer it meanwhile.
 */
async function skopeo(args: string[]): Promise<void> {
  await promisify(execFile)('skopeo', args, { encoding: 'utf8' });
}

/** skopeo copy of layout:tag to a registry over plain HTTP; `format` v2s2 converts to Docker media types. */
export function skopeoPush(layout: string, tag: string, destination: string, options: { creds?: string; all?: boolean; format?: 'oci' | 'v2s2' } = {}): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false'];
  if (options.creds) args.push('--dest-creds', options.creds);
  if (options.all) args.push('--all');
  if (options.format) args.push('--format', options.format);
  return skopeo([...args, `oci:${layout}:${tag}`, `docker://${destination}`]);
}

/** skopeo copy from a registry into an OCI layout (to check what a push left there). */
export function skopeoPull(source: string, layout: string, tag: string, options: { creds?: string } = {}): Promise<void> {
  const args = ['copy', '--quiet', '--src-tls-verify=false'];
  if (options.creds) args.push('--src-creds', options.creds);
  return skopeo([...args, `docker://${source}`, `oci:${layout}:${tag}`]);
}
