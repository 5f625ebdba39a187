/**
 * Changes the config of an image in an OCI layout where no tool can (umoci config has no
 * Healthcheck): a new config blob, a new manifest naming it, and the index pointing at that.
 * The old blobs stay (unreferenced), as a registry would keep them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
  annotations?: Record<string, string>;
}

function readBlob(layout: string, digest: string): Buffer {
  return fs.readFileSync(path.join(layout, 'blobs', ...digest.split(':')));
}

function writeBlob(layout: string, bytes: Buffer): { digest: string; size: number } {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** Runs `edit` on the runtime config ("config" of the image config) of the image tagged `tag`. */
export function editImageConfig(layout: string, tag: string, edit: (config: Record<string, unknown>) => void): void {
  const indexPath = path.join(layout, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexPath, 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`no image tagged ${tag} in ${layout}`);
  const manifest = JSON.parse(readBlob(layout, entry.digest).toString('utf8')) as { config: Descriptor };
  const imageConfig = JSON.parse(readBlob(layout, manifest.config.digest).toString('utf8')) as { config?: Record<string, unknown> };
  imageConfig.config ??= {};
  edit(imageConfig.config);
  manifest.config = { ...manifest.config, ...writeBlob(layout, Buffer.from(JSON.stringify(imageConfig))) };
  Object.assign(entry, writeBlob(layout, Buffer.from(JSON.stringify(manifest))));
  fs.writeFileSync(indexPath, JSON.stringify(index));
}
