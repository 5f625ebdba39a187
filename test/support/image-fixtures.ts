/**
 * Test images written by other tools: umoci builds an OCI layout layer by layer from
 * directories, and skopeo converts it to an oci-archive or a docker-archive. The store under
 * test never writes its own inputs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FixtureLayer {
  /** Files of the layer: path inside the image -> content (a Buffer, or a string). */
  files?: Record<string, string | Buffer>;
  /** Paths the layer deletes (umoci writes them as whiteouts). */
  whiteouts?: string[];
}

export interface FixtureImage {
  /** Its tag inside the layout (ref.name). */
  tag?: string;
  layers: FixtureLayer[];
  /** umoci config flags, e.g. ['--config.cmd', 'sh']. */
  config?: string[];
}

function run(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Builds the image into the OCI layout `layout` (made when missing); returns the layout directory. */
export function buildOciLayout(layout: string, image: FixtureImage): string {
  const tag = image.tag ?? 'latest';
  const ref = `${layout}:${tag}`;
  if (!fs.existsSync(path.join(layout, 'oci-layout'))) run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', ref]);
  const scratch = fs.mkdtempSync(`${layout}.layer-`);
  try {
    for (const [i, layer] of image.layers.entries()) {
      const dir = path.join(scratch, String(i));
      fs.mkdirSync(dir);
      for (const [name, content] of Object.entries(layer.files ?? {})) {
        const file = path.join(dir, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
      }
      if (Object.keys(layer.files ?? {}).length > 0) run('umoci', ['insert', '--image', ref, dir, '/']);
      for (const gone of layer.whiteouts ?? []) run('umoci', ['insert', '--image', ref, '--whiteout', gone]);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  if (image.config) run('umoci', ['config', '--image', ref, ...image.config]);
  return layout;
}

/** `skopeo copy` between two transports ("oci:DIR:TAG", "oci-archive:FILE:NAME", "docker-archive:FILE:NAME"). */
export function skopeoCopy(source: string, destination: string, extra: string[] = []): void {
  run('skopeo', ['copy', '--quiet', ...extra, source, destination]);
}

/** `skopeo inspect --raw` or plain inspect of a transport reference, parsed. */
export function skopeoInspect(reference: string, raw = false): Record<string, unknown> {
  return JSON.parse(run('skopeo', ['inspect', ...(raw ? ['--raw'] : []), reference]));
}

/** A small image: busybox, and a second layer of text files. */
export function busyboxImage(tag = 'latest'): FixtureImage {
  return {
    tag,
    layers: [{ files: { 'bin/busybox': fs.readFileSync('/bin/busybox') } }, { files: { 'etc/motd': 'hello\n', 'opt/app/data.txt': 'data\n' } }],
    config: ['--config.cmd', '/bin/busybox', '--config.env', 'FOO=bar', '--config.workingdir', '/opt/app', '--config.label', 'made.by=umoci'],
  };
}
