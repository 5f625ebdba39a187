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
  /** A tag of the same layout to build on (its layers are shared), instead of an empty image. */
  from?: string;
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
  if (image.from) run('umoci', ['tag', '--image', `${layout}:${image.from}`, tag]);
  else run('umoci', ['new', '--image', ref]);
  // Each layer: unpack the image so far, change its tree, repack (umoci writes the difference,
  // removed files as whiteouts). `umoci insert` is not used: its tars name their root "/" and
  // lack the final padding, both refused by the layer reader.
  const scratch = fs.mkdtempSync(`${layout}.layer-`);
  try {
    for (const [i, layer] of image.layers.entries()) {
      const bundle = path.join(scratch, String(i));
      run('umoci', ['unpack', '--image', ref, bundle]);
      const rootfs = path.join(bundle, 'rootfs');
      for (const [name, content] of Object.entries(layer.files ?? {})) {
        const file = path.join(rootfs, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content, { mode: name.startsWith('bin/') ? 0o755 : 0o644 });
      }
      for (const gone of layer.whiteouts ?? []) fs.rmSync(path.join(rootfs, gone), { recursive: true });
      run('umoci', ['repack', '--image', ref, bundle]);
      fs.rmSync(bundle, { recursive: true, force: true });
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
