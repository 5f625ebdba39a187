/**
 * Blob uploads (OCI distribution spec, "pushing blobs"): a cross-repository mount when the
 * registry has the blob in another repository, otherwise a monolithic upload (POST for a
 * session, one PUT with the body) or a chunked one (PATCH per chunk with Content-Range, then
 * a closing PUT with the digest). Each chunk is a buffer, so a failed one is retried as is.
 */
import type { Readable } from 'node:stream';
import { RegistryError } from '../../errors/errors';
import { pullScope, pushScope, type RegistryClient } from './client';
import { discardBody } from './http-request';

export interface BlobSource {
  digest: string;
  size: number;
  /** Opens the blob's bytes afresh (a retry reads them again). */
  open(): Readable;
}

export interface UploadOptions {
  /** Blobs larger than this go up in chunks of this size; default: one monolithic PUT. */
  chunkSize?: number;
  /** Repositories of the same registry to mount the blob from before uploading it. */
  mountFrom?: readonly string[];
  signal?: AbortSignal;
}

export type UploadOutcome = 'exists' | 'mounted' | 'uploaded';

function locationOf(client: RegistryClient, location: string | undefined, what: string): string {
  if (!location) throw new RegistryError(`${client.endpoint.registry}: ${what} without a Location`, 202);
  return client.resolve(location).href;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.href;
}

/** Reads `size` bytes from `source` in buffers of `chunkSize` (the last one shorter). */
async function* chunksOf(source: Readable, chunkSize: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingSize = 0;
  for await (const data of source) {
    let chunk = data as Buffer;
    while (pendingSize + chunk.length >= chunkSize) {
      const take = chunkSize - pendingSize;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingSize = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.length) {
      pending.push(chunk);
      pendingSize += chunk.length;
    }
  }
  if (pendingSize) yield Buffer.concat(pending);
}

export async function uploadBlob(client: RegistryClient, repository: string, blob: BlobSource, options: UploadOptions = {}): Promise<UploadOutcome> {
  const { signal } = options;
  const scopes = [pushScope(repository), ...(options.mountFrom ?? []).filter((r) => r !== repository).map(pullScope)];
  if (await client.hasBlob(repository, blob.digest, scopes, signal)) return 'exists';

  let start: Awaited<ReturnType<RegistryClient['request']>> | undefined;
  for (const from of options.mountFrom ?? []) {
    if (from === repository) continue;
    const query = new URLSearchParams({ mount: blob.digest, from });
    const reply = await client.request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/?${query}`, scopes, ok: [201, 202], signal });
    discardBody(reply);
    if (reply.statusCode === 201) return 'mounted';
    // 202: the registry could not mount and opened an upload session instead; use it.
    start = reply;
    break;
  }
  if (!start) {
    start = await client.request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/`, scopes, ok: [202], signal });
    discardBody(start);
  }
  let location = locationOf(client, start.headers.location, 'upload session');

  const chunkSize = options.chunkSize;
  if (!chunkSize || blob.size <= chunkSize) {
    const done = await client.request({
      method: 'PUT',
      path: withDigest(location, blob.digest),
      headers: { 'content-type': 'application/octet-stream' },
      body: blob.open,
      scopes,
      ok: [201],
      signal,
    });
    discardBody(done);
    return 'uploaded';
  }

  let offset = 0;
  for await (const chunk of chunksOf(blob.open(), chunkSize)) {
    const reply = await client.request({
      method: 'PATCH',
      path: location,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk,
      scopes,
      ok: [202],
      signal,
    });
    discardBody(reply);
    offset += chunk.length;
    location = locationOf(client, reply.headers.location, 'chunk upload');
  }
  if (offset !== blob.size) throw new RegistryError(`blob ${blob.digest}: read ${offset} bytes from the store, the manifest says ${blob.size}`);
  const done = await client.request({ method: 'PUT', path: withDigest(location, blob.digest), scopes, ok: [201], signal });
  discardBody(done);
  return 'uploaded';
}

/** PUT of a manifest under a tag or its digest; resolves to the digest the registry reports. */
export async function putManifest(client: RegistryClient, repository: string, reference: string, manifest: { mediaType: string; bytes: Buffer }, signal?: AbortSignal): Promise<string | undefined> {
  const reply = await client.request({
    method: 'PUT',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { 'content-type': manifest.mediaType },
    body: manifest.bytes,
    scopes: [pushScope(repository)],
    ok: [201],
    signal,
  });
  discardBody(reply);
  const digest = reply.headers['docker-content-digest'];
  return typeof digest === 'string' ? digest : undefined;
}
