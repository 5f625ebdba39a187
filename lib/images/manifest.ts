/**
 * Manifests, indexes (manifest lists) and image configs: parsed from their JSON and checked
 * as far as the store relies on them, so that later code can trust their shape. Anything
 * malformed is an ImageArchiveError naming where it came from.
 */
import { ImageArchiveError } from '../errors/errors';
import { isDigest } from './digest';
import { CONFIG_TYPES, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, isIndexType, isManifestType, layerCompression } from './media-types';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** What a container takes from an image by default (the `config` object of an image config). */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(where: string, problem: string): never {
  throw new ImageArchiveError(where, problem);
}

/** Parses JSON bytes into an object, or fails naming `where`. */
export function parseJsonObject(bytes: Buffer | string, where: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString());
  } catch (error) {
    bad(where, `not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) bad(where, 'expected a JSON object');
  return value;
}

function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) bad(where, 'expected an object of strings');
  return value as Record<string, string>;
}

export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) bad(where, 'expected a descriptor object');
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') bad(where, 'descriptor without a mediaType');
  if (!isDigest(digest)) bad(where, `descriptor digest ${JSON.stringify(digest)} is not a sha256 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad(where, `descriptor size ${JSON.stringify(size)} is not a byte count`);
  const descriptor: Descriptor = { mediaType, digest, size };
  const annotations = stringMap(value.annotations, `${where}.annotations`);
  if (annotations) descriptor.annotations = annotations;
  if (value.platform !== undefined) {
    const p = value.platform;
    if (!isObject(p) || typeof p.os !== 'string' || typeof p.architecture !== 'string') bad(where, 'platform without os and architecture');
    if (p.variant !== undefined && typeof p.variant !== 'string') bad(where, 'platform variant is not a string');
    descriptor.platform = { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) };
  }
  if (Array.isArray(value.urls)) descriptor.urls = value.urls.filter((u): u is string => typeof u === 'string');
  return descriptor;
}

export type ParsedManifest = { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex };

/**
 * A manifest or an index. `mediaTypeHint` is what the transport said (a registry's
 * Content-Type, a descriptor's mediaType); OCI documents may omit their own mediaType, and
 * then their fields tell which they are. A document that names its type must agree with the hint.
 */
export function parseManifestOrIndex(bytes: Buffer | string, where: string, mediaTypeHint?: string): ParsedManifest {
  const json = parseJsonObject(bytes, where);
  if (json.schemaVersion !== 2) bad(where, `schemaVersion ${JSON.stringify(json.schemaVersion)} is not 2 (Docker schema 1 and others are not supported)`);
  const declared = json.mediaType;
  if (declared !== undefined && typeof declared !== 'string') bad(where, 'mediaType is not a string');
  const hint = mediaTypeHint && (isManifestType(mediaTypeHint) || isIndexType(mediaTypeHint)) ? mediaTypeHint : undefined;
  if (declared !== undefined && hint !== undefined && declared !== hint) bad(where, `declares mediaType ${declared} but was given as ${hint}`);
  const mediaType = (declared as string | undefined) ?? hint ?? (Array.isArray(json.manifests) ? OCI_INDEX : OCI_MANIFEST);
  if (isIndexType(mediaType)) return { kind: 'index', index: parseIndexJson(json, where, mediaType) };
  if (isManifestType(mediaType)) return { kind: 'manifest', manifest: parseManifestJson(json, where, mediaType) };
  return bad(where, `mediaType ${mediaType} is neither an image manifest nor an index`);
}

export function parseManifest(bytes: Buffer | string, where: string, mediaTypeHint?: string): ImageManifest {
  const parsed = parseManifestOrIndex(bytes, where, mediaTypeHint);
  if (parsed.kind !== 'manifest') bad(where, 'expected an image manifest, found an index');
  return parsed.manifest;
}

function parseManifestJson(json: Json, where: string, mediaType: string): ImageManifest {
  const config = parseDescriptor(json.config, `${where}: config`);
  if (!CONFIG_TYPES.includes(config.mediaType)) bad(where, `config mediaType ${config.mediaType} is not an image config (an artifact, not an image)`);
  if (!Array.isArray(json.layers)) bad(where, 'manifest without a layers list');
  const layers = json.layers.map((layer, i) => parseDescriptor(layer, `${where}: layers[${i}]`));
  layers.forEach((layer, i) => {
    if (layerCompression(layer.mediaType) === undefined) bad(`${where}: layers[${i}]`, `layer mediaType ${layer.mediaType} is not a tar, tar+gzip or tar+zstd layer`);
  });
  if (mediaType === DOCKER_MANIFEST && layers.some((l) => l.mediaType.startsWith('application/vnd.oci.'))) {
    bad(where, 'a Docker manifest with OCI layer types');
  }
  const manifest: ImageManifest = { schemaVersion: 2, mediaType, config, layers };
  const annotations = stringMap(json.annotations, `${where}: annotations`);
  if (annotations) manifest.annotations = annotations;
  return manifest;
}

function parseIndexJson(json: Json, where: string, mediaType: string): ImageIndex {
  if (!Array.isArray(json.manifests)) bad(where, 'index without a manifests list');
  const manifests = json.manifests.map((m, i) => parseDescriptor(m, `${where}: manifests[${i}]`));
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests };
  const annotations = stringMap(json.annotations, `${where}: annotations`);
  if (annotations) index.annotations = annotations;
  return index;
}

/** A descriptor's JSON with a fixed key order, and only the fields it has. */
function descriptorJson(d: Descriptor): Json {
  return {
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    ...(d.urls ? { urls: d.urls } : {}),
    ...(d.annotations ? { annotations: d.annotations } : {}),
    ...(d.platform ? { platform: d.platform } : {}),
  };
}

/**
 * A manifest's JSON, as ts-container writes manifests (commit, docker-archive import), with a
 * fixed key order: one image always gets the same manifest digest.
 */
export function serializeManifest(manifest: ImageManifest): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifest.mediaType,
      config: descriptorJson(manifest.config),
      layers: manifest.layers.map(descriptorJson),
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    }),
  );
}

/** An index's JSON (an OCI layout's index.json), with a fixed key order. */
export function serializeIndex(index: ImageIndex): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: index.mediaType,
      manifests: index.manifests.map(descriptorJson),
      ...(index.annotations ? { annotations: index.annotations } : {}),
    }),
  );
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** An image config: os, architecture, the layer diff ids, and the runtime defaults kept as given. */
export function parseImageConfig(bytes: Buffer | string, where: string): ImageConfig {
  const json = parseJsonObject(bytes, where);
  if (typeof json.os !== 'string' || typeof json.architecture !== 'string') bad(where, 'image config without os and architecture');
  const rootfs = json.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) bad(where, 'image config without rootfs.type "layers" and rootfs.diff_ids');
  const diffIds = rootfs.diff_ids;
  diffIds.forEach((id, i) => {
    if (!isDigest(id)) bad(where, `rootfs.diff_ids[${i}] ${JSON.stringify(id)} is not a sha256 digest`);
  });
  const config: ImageConfig = { architecture: json.architecture, os: json.os, rootfs: { type: 'layers', diff_ids: diffIds as string[] } };
  if (typeof json.variant === 'string') config.variant = json.variant;
  if (typeof json.created === 'string') config.created = json.created;
  if (typeof json.author === 'string') config.author = json.author;
  if (Array.isArray(json.history)) config.history = json.history.filter(isObject) as HistoryEntry[];
  if (json.config !== undefined && json.config !== null) {
    if (!isObject(json.config)) bad(where, 'config is not an object');
    config.config = runtimeConfig(json.config, where);
  }
  return config;
}

function runtimeConfig(c: Json, where: string): ImageRuntimeConfig {
  const out: ImageRuntimeConfig = {};
  const strings = (key: 'Env' | 'Entrypoint' | 'Cmd') => {
    if (c[key] === undefined || c[key] === null) return;
    const list = stringList(c[key]);
    if (!list) bad(where, `config.${key} is not a list of strings`);
    out[key] = list;
  };
  strings('Env');
  strings('Entrypoint');
  strings('Cmd');
  if (typeof c.User === 'string') out.User = c.User;
  if (typeof c.WorkingDir === 'string') out.WorkingDir = c.WorkingDir;
  if (typeof c.StopSignal === 'string') out.StopSignal = c.StopSignal;
  if (isObject(c.ExposedPorts)) out.ExposedPorts = c.ExposedPorts as Record<string, object>;
  if (isObject(c.Volumes)) out.Volumes = c.Volumes as Record<string, object>;
  const labels = c.Labels === null ? undefined : stringMap(c.Labels, `${where}: config.Labels`);
  if (labels) out.Labels = labels;
  if (isObject(c.Healthcheck)) out.Healthcheck = c.Healthcheck as ImageRuntimeConfig['Healthcheck'];
  return out;
}

const NODE_ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  ia32: { architecture: '386' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  mips64el: { architecture: 'mips64le' },
  loong64: { architecture: 'loong64' },
};

/** This machine's platform in OCI words ("linux/amd64", "linux/arm64/v8", "linux/arm/v7"). */
export function hostPlatform(): Platform {
  if (process.arch === 'arm') {
    const version = (process.config.variables as Record<string, unknown>).arm_version;
    return { os: 'linux', architecture: 'arm', variant: `v${typeof version === 'string' || typeof version === 'number' ? version : '7'}` };
  }
  return { os: 'linux', ...(NODE_ARCH[process.arch] ?? { architecture: process.arch }) };
}

const PLATFORM_PART = /^[a-z0-9_.-]+$/;

/** "os/architecture[/variant]" as docker's --platform takes it; a TypeError naming `where` otherwise. */
export function parsePlatform(value: unknown, where = 'platform'): Platform {
  const parts = typeof value === 'string' ? value.split('/') : [];
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PLATFORM_PART.test(p))) {
    throw new TypeError(`${where}: expected "os/architecture[/variant]" such as "linux/amd64", got ${JSON.stringify(value)}`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** arm64 without a variant is v8, as containerd's platform matcher reads it. */
function variantOf(platform: Partial<Platform>): string | undefined {
  if (platform.variant) return platform.variant;
  return platform.architecture === 'arm64' ? 'v8' : undefined;
}

/**
 * Whether an entry offered for `offered` runs on `wanted`: os and architecture equal, and the
 * variants (arm64's implied v8 counted) equal where both have one.
 */
export function platformMatches(wanted: Platform, offered: Partial<Platform> | undefined): boolean {
  if (!offered || offered.os !== wanted.os || offered.architecture !== wanted.architecture) return false;
  const w = variantOf(wanted);
  const o = variantOf(offered);
  return !w || !o || w === o;
}

/**
 * The entry of an index for `platform`, the one rule for the store and the registry: among
 * the entries that match (platformMatches), the one of exactly the wanted variant, else the
 * first. Entries without a platform, BuildKit's attestations (unknown/unknown) and entries
 * whose mediaType is neither a manifest nor an index are never chosen.
 */
export function matchPlatform<T extends { mediaType?: string; platform?: Partial<Platform> }>(entries: readonly T[], platform: Platform): T | undefined {
  const candidates = entries.filter(
    (m) =>
      m.platform !== undefined &&
      m.platform.os !== 'unknown' &&
      (m.mediaType === undefined || isManifestType(m.mediaType) || isIndexType(m.mediaType)) &&
      platformMatches(platform, m.platform),
  );
  const wantedVariant = variantOf(platform);
  return candidates.find((m) => variantOf(m.platform as Partial<Platform>) === wantedVariant) ?? candidates[0];
}

/** The index entry for `platform` (default: this machine's), or undefined when it has none. */
export function selectPlatform(index: ImageIndex, platform: Platform | string = hostPlatform()): Descriptor | undefined {
  return matchPlatform(index.manifests, typeof platform === 'string' ? parsePlatform(platform) : platform);
}
