/** Manifests, indexes and configs: what is accepted, what is refused and how it is named, and platform selection. */
import { ImageArchiveError } from '../../lib/errors/errors';
import { digestHex, parseDigest, sha256Digest } from '../../lib/images/digest';
import { parseImageConfig, parseManifest, parseManifestOrIndex, parsePlatform, selectPlatform, type ImageIndex } from '../../lib/images/manifest';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../../lib/images/media-types';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = (extra: object = {}) => ({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('c'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('1'), size: 20 }],
  ...extra,
});

function archiveError(fn: () => unknown): ImageArchiveError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ImageArchiveError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('digests', () => {
  it('accepts sha256 only, lowercase, 64 digits', () => {
    expect(digestHex(D('a'))).toBe('a'.repeat(64));
    expect(digestHex('sha256:' + 'A'.repeat(64))).toBeUndefined();
    expect(digestHex('sha512:' + 'a'.repeat(128))).toBeUndefined();
    expect(() => parseDigest('sha256:abc', 'config.digest')).toThrow(/^config.digest: expected/);
    expect(sha256Digest('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('manifests', () => {
  it('reads an OCI manifest, with or without its own mediaType', () => {
    expect(parseManifest(JSON.stringify(manifest()), 'm').layers).toHaveLength(1);
    const { mediaType: _omit, ...bare } = manifest();
    expect(parseManifest(JSON.stringify(bare), 'm').mediaType).toBe(OCI_MANIFEST);
  });

  it('reads a Docker v2s2 manifest with Docker layer types', () => {
    const docker = manifest({
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: D('c'), size: 1 },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: D('2'), size: 3 }],
    });
    expect(parseManifest(JSON.stringify(docker), 'm').mediaType).toBe(DOCKER_MANIFEST);
  });

  it.each([
    ['schema 1', { schemaVersion: 1 }, /schemaVersion 1/],
    ['a bad layer digest', { layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:xyz', size: 1 }] }, /not a sha256 digest/],
    ['a negative size', { layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: D('1'), size: -1 }] }, /not a byte count/],
    ['an unknown layer type', { layers: [{ mediaType: 'application/x-foo', digest: D('1'), size: 1 }] }, /not a tar/],
    ['an artifact config', { config: { mediaType: 'application/vnd.example.config', digest: D('c'), size: 1 } }, /not an image config/],
    ['no layers', { layers: undefined }, /layers list/],
  ])('refuses %s, naming where', (_name, change, message) => {
    const error = archiveError(() => parseManifest(JSON.stringify(manifest(change)), 'blobs/sha256/x'));
    expect(error.entry).toMatch(/^blobs\/sha256\/x/);
    expect(error.message).toMatch(message);
  });

  it('refuses a document whose mediaType disagrees with what the transport said', () => {
    expect(archiveError(() => parseManifestOrIndex(JSON.stringify(manifest()), 'm', DOCKER_MANIFEST)).message).toMatch(/declares mediaType/);
    expect(archiveError(() => parseManifest('not json', 'm')).message).toMatch(/not valid JSON/);
    expect(archiveError(() => parseManifest(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), 'm')).message).toMatch(/found an index/);
  });
});

describe('configs', () => {
  const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D('d')] }, config: { Cmd: ['sh'], Env: ['A=1'], Labels: null } };
  it('keeps the runtime defaults', () => {
    const parsed = parseImageConfig(JSON.stringify(config), 'c');
    expect(parsed.config).toEqual({ Cmd: ['sh'], Env: ['A=1'] });
    expect(parsed.rootfs.diff_ids).toEqual([D('d')]);
  });
  it('refuses a config without diff ids or with a Cmd that is not a list of strings', () => {
    expect(archiveError(() => parseImageConfig(JSON.stringify({ ...config, rootfs: {} }), 'c')).message).toMatch(/diff_ids/);
    expect(archiveError(() => parseImageConfig(JSON.stringify({ ...config, config: { Cmd: 'sh' } }), 'c')).message).toMatch(/Cmd/);
  });
});

describe('platforms', () => {
  const entry = (architecture: string, variant?: string, mediaType = OCI_MANIFEST) => ({
    mediaType,
    digest: D(architecture === 'amd64' ? 'a' : architecture === 'arm64' ? (variant === 'v9' ? '9' : 'b') : 'e'),
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST_LIST,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: D('0'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
      entry('amd64'),
      entry('arm64'),
      entry('arm64', 'v9'),
      entry('arm', 'v7'),
    ],
  };
  it('picks by os, architecture and variant; arm64 without a variant is v8', () => {
    expect(selectPlatform(index, 'linux/amd64')?.digest).toBe(D('a'));
    expect(selectPlatform(index, 'linux/arm64')?.digest).toBe(D('b'));
    expect(selectPlatform(index, 'linux/arm64/v8')?.digest).toBe(D('b'));
    expect(selectPlatform(index, 'linux/arm64/v9')?.digest).toBe(D('9'));
    expect(selectPlatform(index, 'linux/arm/v6')).toBeUndefined();
    expect(selectPlatform(index, 'linux/s390x')).toBeUndefined();
  });
  it('never picks an attestation or an entry without a platform', () => {
    expect(selectPlatform(index, 'unknown/unknown')).toBeUndefined();
  });
  it('parses os/arch[/variant] and refuses anything else', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => parsePlatform('linux', 'pull: platform')).toThrow(/^pull: platform: expected/);
    expect(() => parsePlatform('linux/amd64/v1/x')).toThrow(TypeError);
  });
});
