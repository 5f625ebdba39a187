/**
 * Test images made by other tools: umoci builds OCI layouts (each layer a `umoci repack` of
 * a changed root, or a `umoci raw add-layer` of a tar this suite writes), skopeo converts
 * them (zstd or uncompressed layers, docker-archive, oci-archive). Two images:
 *   'busybox'        Debian's busybox-static root, then changes, then a hand-made layer:
 *                    whiteouts, an opaque directory, hard links, absolute, relative and dangling
 *                    symlinks, setuid/setgid/sticky modes, owners, user.* and
 *                    security.capability xattrs, a FIFO and a device node.
 *   'debian-files'   the busybox root plus the files of Debian packages (`apt-get download` +
 *                    `dpkg-deb -x`: setuid programs among them), then a layer deleting parts.
 * API:
 *   buildTestImage(kind, dir) → TestImage (an OCI layout with tag 'latest', built once per dir)
 *   convertImage(image, dest, { compression, format })  skopeo copy to another format (for
 *                    uncompressed layers, which skopeo 1.9 does not write to OCI, a copy of our own)
 *   readImageLayers(image) → the layers (blob path, digest, size, media type) and diff ids
 *   umociUnpack(image, bundle) → the rootfs `umoci unpack` made
 * Needs root (owners, devices), umoci, skopeo, apt-get and dpkg-deb.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ensureBusyboxRootfs } from './busybox-rootfs';
import { tarBytes } from './tar-writer';

export type TestImageKind = 'busybox' | 'debian-files';

export interface TestImage {
  /** The OCI layout directory. */
  layout: string;
  tag: string;
  /** For skopeo: "oci:<layout>:<tag>". */
  ref: string;
}

export interface TestImageLayer {
  digest: string;
  size: number;
  mediaType: string;
  /** The blob in the layout. */
  path: string;
}

function run(program: string, args: string[], options: { cwd?: string } = {}): string {
  return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...options });
}

function image(layout: string, tag = 'latest'): TestImage {
  return { layout, tag, ref: `oci:${layout}:${tag}` };
}

/** Runs `change(rootfs)` on a fresh `umoci unpack` of the image, then repacks it as one new layer. */
function addLayerByRepack(img: TestImage, work: string, change: (rootfs: string) => void): void {
  const bundle = path.join(work, 'bundle');
  fs.rmSync(bundle, { recursive: true, force: true });
  run('umoci', ['unpack', '--image', `${img.layout}:${img.tag}`, bundle]);
  change(path.join(bundle, 'rootfs'));
  run('umoci', ['repack', '--image', `${img.layout}:${img.tag}`, bundle]);
  fs.rmSync(bundle, { recursive: true, force: true });
}

function setXattr(file: string, name: string, value: Buffer): void {
  run('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]), follow_symlinks=False)', file, name, value.toString('hex')]);
}

/** A version 2 file capability: cap_net_raw and cap_net_bind_service, permitted and effective. */
export const CAP_NET_RAW_BIND = Buffer.from('0100000200240000000000000000000000000000', 'hex');

function busyboxBase(rootfs: string): void {
  run('cp', ['-a', `${ensureBusyboxRootfs()}/.`, rootfs]);
  fs.rmSync(path.join(rootfs, '.complete'), { force: true });
  const w = (rel: string, text: string, mode = 0o644, uid = 0, gid = 0) => {
    const file = path.join(rootfs, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    fs.chownSync(file, uid, gid);
    fs.chmodSync(file, mode);
  };
  w('usr/bin/suid-tool', '#!/bin/sh\necho suid\n', 0o4755);
  w('usr/bin/sgid-tool', '#!/bin/sh\necho sgid\n', 0o2755, 0, 1000);
  w('usr/bin/capped', '#!/bin/sh\necho capped\n', 0o755);
  setXattr(path.join(rootfs, 'usr/bin/capped'), 'security.capability', CAP_NET_RAW_BIND);
  w('etc/labelled', 'has a user xattr\n');
  setXattr(path.join(rootfs, 'etc/labelled'), 'user.test.label', Buffer.from('layer-one'));
  w('usr/lib/hl-a', 'one inode, two names\n', 0o640);
  fs.linkSync(path.join(rootfs, 'usr/lib/hl-a'), path.join(rootfs, 'usr/lib/hl-b'));
  fs.symlinkSync('/bin/busybox', path.join(rootfs, 'usr/bin/abs-link'));
  fs.symlinkSync('../nowhere/at/all', path.join(rootfs, 'etc/dangling'));
  fs.mkdirSync(path.join(rootfs, 'srv/shared'), { recursive: true });
  fs.chmodSync(path.join(rootfs, 'srv/shared'), 0o3775);
  fs.mkdirSync(path.join(rootfs, 'home/user'), { recursive: true });
  w('home/user/secret', 'mine\n', 0o600, 1000, 1000);
  fs.chownSync(path.join(rootfs, 'home/user'), 1000, 1000);
  fs.chmodSync(path.join(rootfs, 'home/user'), 0o700);
  fs.mkdirSync(path.join(rootfs, 'run'), { recursive: true });
  run('mkfifo', ['-m', '0620', path.join(rootfs, 'run/fifo')]);
  run('mknod', ['-m', '0666', path.join(rootfs, 'dev/null'), 'c', '1', '3']);
  w('etc/opq/old-a', 'hidden by an opaque dir above\n');
  w('etc/opq/old-b', 'hidden by an opaque dir above\n');
  w('var/gone/x', 'deleted with its directory\n');
  w('var/gone/y', 'deleted with its directory\n');
  w('etc/remove-me', 'deleted above\n');
  w('etc/chmod-me', 'mode changed above\n', 0o644);
}

function busyboxChanges(rootfs: string): void {
  fs.rmSync(path.join(rootfs, 'etc/remove-me'));
  fs.rmSync(path.join(rootfs, 'var/gone'), { recursive: true });
  fs.rmSync(path.join(rootfs, 'bin/vi'));
  fs.writeFileSync(path.join(rootfs, 'etc/hostname'), 'changed\n');
  fs.chmodSync(path.join(rootfs, 'etc/chmod-me'), 0o600);
  fs.writeFileSync(path.join(rootfs, 'usr/lib/new-a'), 'linked in layer two\n');
  fs.linkSync(path.join(rootfs, 'usr/lib/new-a'), path.join(rootfs, 'usr/lib/new-b'));
  setXattr(path.join(rootfs, 'usr/lib/new-a'), 'user.test.layer', Buffer.from('two'));
}

/** The hand-made top layer: an opaque directory, an explicit whiteout, pax xattrs, a setuid file. */
function busyboxTopLayer(): Buffer {
  return tarBytes([
    { name: 'etc/', type: '5', mode: 0o755 },
    { name: 'etc/opq/', type: '5', mode: 0o750, uid: 0, gid: 1000 },
    { name: 'etc/opq/.wh..wh..opq', data: '' },
    { name: 'etc/opq/fresh', data: 'the only file left in etc/opq\n', mode: 0o644 },
    { name: 'bin/', type: '5', mode: 0o755 },
    { name: 'bin/.wh.ls' },
    { name: 'opt/', type: '5', mode: 0o755 },
    { name: 'opt/tool', data: '#!/bin/sh\n', mode: 0o6750, uid: 0, gid: 1000, xattrs: { 'user.test.pax': 'three' } },
    { name: 'opt/tool-link', type: '1', link: 'opt/tool' },
    { name: `opt/${'long-name-'.repeat(15)}end`, data: 'a name past 100 bytes\n' },
  ]);
}

const APT_CACHE = '/var/cache/apt/archives';

function debianFiles(rootfs: string): void {
  const debs = path.resolve(__dirname, '..', '..', '.test-rootfs', 'debs');
  fs.mkdirSync(debs, { recursive: true });
  // passwd ships setuid programs (passwd, chsh, chfn, gpasswd, newgrp) and setgid ones.
  for (const pkg of ['passwd', 'login']) {
    const isPackage = (f: string) => f.startsWith(`${pkg}_`) && f.endsWith('.deb');
    if (fs.readdirSync(debs).some(isPackage)) continue;
    // Fetched once per checkout: from apt's own cache when it holds the package, else from the mirror.
    const cached = fs.existsSync(APT_CACHE) ? fs.readdirSync(APT_CACHE).filter(isPackage).sort() : [];
    if (cached.length > 0) fs.copyFileSync(path.join(APT_CACHE, cached[cached.length - 1]), path.join(debs, cached[cached.length - 1]));
    else run('apt-get', ['download', '-q', pkg], { cwd: debs });
  }
  for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
    run('dpkg-deb', ['-x', path.join(debs, deb), rootfs]);
  }
}

function debianRemovals(rootfs: string): void {
  fs.rmSync(path.join(rootfs, 'usr/share/doc'), { recursive: true, force: true });
  fs.rmSync(path.join(rootfs, 'usr/share/man'), { recursive: true, force: true });
  fs.rmSync(path.join(rootfs, 'bin/login'), { force: true });
}

/** Builds (once per directory) the test image of that kind: an OCI layout at `<dir>/layout`, tag 'latest'. */
export function buildTestImage(kind: TestImageKind, dir: string): TestImage {
  const layout = path.join(dir, 'layout');
  const img = image(layout);
  if (fs.existsSync(path.join(dir, '.complete'))) return img;
  const work = path.join(dir, 'work');
  fs.rmSync(layout, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:${img.tag}`]);
  addLayerByRepack(img, work, busyboxBase);
  if (kind === 'busybox') {
    addLayerByRepack(img, work, busyboxChanges);
    const top = path.join(work, 'top.tar');
    fs.writeFileSync(top, busyboxTopLayer());
    run('umoci', ['raw', 'add-layer', '--image', `${layout}:${img.tag}`, top]);
  } else {
    addLayerByRepack(img, work, debianFiles);
    addLayerByRepack(img, work, debianRemovals);
  }
  run('umoci', ['config', '--image', `${layout}:${img.tag}`, '--config.cmd', '/bin/sh']);
  run('umoci', ['gc', '--layout', layout]);
  fs.rmSync(work, { recursive: true, force: true });
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return img;
}

export interface ConvertOptions {
  /** Layer compression of the copy (skopeo's default keeps the source's). */
  compression?: 'gzip' | 'zstd' | 'none';
  /** 'oci' (a layout directory, the default), 'oci-archive' or 'docker-archive' (a tar file). */
  format?: 'oci' | 'oci-archive' | 'docker-archive';
}

/**
 * `skopeo copy` of the image to `dest`. For 'oci' a TestImage of the new layout; for an
 * archive, `layout` is the archive file and `ref` its skopeo name ("docker-archive:FILE",
 * with the reference localhost/test:TAG inside, or "oci-archive:FILE:TAG").
 */
export function convertImage(img: TestImage, dest: string, options: ConvertOptions = {}): TestImage {
  const format = options.format ?? 'oci';
  if (options.compression === 'none') {
    // skopeo 1.9 keeps an OCI destination's layers compressed whatever --dest-decompress says.
    if (format !== 'oci') throw new Error('convertImage: uncompressed layers only into an OCI layout');
    return decompressedCopy(img, dest);
  }
  const args = ['copy', '--quiet'];
  if (options.compression) args.push('--dest-compress', '--dest-compress-format', options.compression);
  const target = format === 'oci' ? `oci:${dest}:${img.tag}` : `${format}:${dest}${format === 'docker-archive' ? `:localhost/test:${img.tag}` : `:${img.tag}`}`;
  run('skopeo', [...args, img.ref, target]);
  if (format === 'oci') return image(dest, img.tag);
  // An archive: `layout` is the file, `ref` names it for skopeo.
  return { layout: dest, tag: img.tag, ref: format === 'docker-archive' ? `docker-archive:${dest}` : `oci-archive:${dest}:${img.tag}` };
}

/** The image as an OCI layout whose layers are plain tar (media type ...layer.v1.tar). */
function decompressedCopy(img: TestImage, dest: string): TestImage {
  const blobs = path.join(dest, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    fs.writeFileSync(path.join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const index = readBlobJsonFile(path.join(img.layout, 'index.json'));
  const entry = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === img.tag) ?? index.manifests[0];
  const manifest = readBlobJson(img.layout, entry.digest);
  const configBytes = fs.readFileSync(path.join(img.layout, 'blobs', ...String(manifest.config.digest).split(':')));
  put(configBytes);
  manifest.layers = manifest.layers.map((l: any) => {
    const raw = fs.readFileSync(path.join(img.layout, 'blobs', ...String(l.digest).split(':')));
    return { ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(zlib.gunzipSync(raw)) };
  });
  const written = put(Buffer.from(JSON.stringify(manifest)));
  fs.writeFileSync(path.join(dest, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(
    path.join(dest, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...written, annotations: entry.annotations }] }),
  );
  return image(dest, img.tag);
}

function readBlobJson(layout: string, digest: string): any {
  return JSON.parse(fs.readFileSync(path.join(layout, 'blobs', ...digest.split(':')), 'utf8'));
}

/** The image's layers (bottom first) and the diff ids its config lists. */
export function readImageLayers(img: TestImage): { layers: TestImageLayer[]; diffIds: string[]; manifestDigest: string } {
  const index = readBlobJsonFile(path.join(img.layout, 'index.json'));
  const entry = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === img.tag) ?? index.manifests[0];
  const manifest = readBlobJson(img.layout, entry.digest);
  const config = readBlobJson(img.layout, manifest.config.digest);
  const layers = manifest.layers.map((l: any) => ({
    digest: l.digest,
    size: l.size,
    mediaType: l.mediaType,
    path: path.join(img.layout, 'blobs', ...String(l.digest).split(':')),
  }));
  return { layers, diffIds: config.rootfs.diff_ids, manifestDigest: entry.digest };
}

function readBlobJsonFile(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** `umoci unpack` of the image into `bundle`; returns its rootfs. */
export function umociUnpack(img: TestImage, bundle: string): string {
  run('umoci', ['unpack', '--image', `${img.layout}:${img.tag}`, bundle]);
  return path.join(bundle, 'rootfs');
}
