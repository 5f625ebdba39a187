/**
 * The two halves of a copy, both on the native code images use: a tree as a tar stream
 * (layerDiff, native/addon/layer_diff.cc, here with a root: the path is resolved inside it)
 * and a tar stream written under a directory (the layer applier, native/addon/layer_applier.cc,
 * also with a root when the directory is a container's). Every path is resolved in native code
 * with openat2(RESOLVE_IN_ROOT); entries are written without following any symlink.
 */
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { ContainerCopyError } from '../errors/errors';
import { EntryBatcher } from '../images/layer-unpack';
import { chunksOf } from '../images/stream-chunks';
import { TarParser, type TarHeader } from '../images/tar/tar-reader';
import { native } from '../native/binding';
import type { IdMapping } from '../options/types';
import type { NativeLayerApplier, NativeLayerEntry } from '../../types/native';

export interface IdMaps {
  uidMap: IdMapping[];
  gidMap: IdMapping[];
}

/** Where a copy reads or writes: a root directory (a container's /proc/PID/root, or the host's /) and its id maps. */
export interface CopyRoot {
  root: string;
  /** The container's user namespace maps; absent: ids are the host's. */
  idMaps?: IdMaps;
}

/** A native error of the walker or applier ({ entry, code, errno, step }) as a ContainerCopyError about `path`. */
export function copyErrnoError(error: unknown, path: string, side: string): Error {
  const e = error as Error & { entry?: string; code?: string; errno?: number; step?: string };
  if (e instanceof ContainerCopyError || typeof e?.code !== 'string' || typeof e?.step !== 'string') return e;
  const where = e.entry && e.entry !== path ? `${path} (at ${e.entry})` : path;
  return new ContainerCopyError(`${side} ${where}: ${e.message}`, path, {
    code: e.code,
    ...(typeof e.errno === 'number' ? { errno: Math.abs(e.errno) } : {}),
    step: e.step,
    cause: e,
  });
}

/**
 * A tar stream of `path` inside `from`: the entry under its own name (a directory with all
 * below it), its contents when the path ends in "/.", the whole root as "./" for "/". Owners
 * are the container's ids. Resolves once the first bytes are there (or the walk is over), so
 * that a missing path rejects here rather than as a stream error.
 */
export async function archiveOf(from: CopyRoot, path: string, side: string): Promise<Readable> {
  const [readFd, writeFd] = native().createPipe();
  const stream = new net.Socket({ fd: readFd, readable: true, writable: false });
  const walk = native()
    .layerDiff(path, writeFd, { whiteouts: false, root: from.root, ...(from.idMaps ?? {}) })
    .finally(() => native().closeFd(writeFd));
  walk.then(
    () => undefined,
    (error: unknown) => stream.destroy(copyErrnoError(error, path, side)),
  );
  await new Promise<void>((resolve, reject) => {
    const ready = () => {
      stream.off('error', reject);
      resolve();
    };
    stream.once('readable', ready);
    stream.once('end', ready);
    stream.once('error', reject);
    walk.then(ready, () => undefined);
  });
  // net.Socket is Duplex: the caller gets its readable side only.
  return stream;
}

/**
 * The applier for the directory `dir` (inside `into.root` when given, else a host path): a copy
 * never replaces a directory that is there by a file. Throws the native error (ENOENT, ENOTDIR).
 */
export function openApplier(into: Partial<CopyRoot>, dir: string): NativeLayerApplier {
  return new (native().LayerApplier)(dir, {
    privileged: true,
    replaceDirectories: false,
    ...(into.root !== undefined ? { root: into.root } : {}),
    ...(into.idMaps ?? {}),
  });
}

/** Writes these entries under `dir`, as one batch. */
export async function writeEntries(into: Partial<CopyRoot>, dir: string, entries: NativeLayerEntry[], path: string, side: string): Promise<void> {
  let applier: NativeLayerApplier | undefined;
  try {
    applier = openApplier(into, dir);
    await applier.apply(entries);
    await applier.finish();
  } catch (error) {
    throw copyErrnoError(error, path, side);
  } finally {
    applier?.close();
  }
}

export interface ExtractOptions {
  /** Each tar header as the applier entry to write (or null to skip it); throws to refuse the archive. */
  toEntry: (header: TarHeader) => NativeLayerEntry | null;
  /** For errors: the path written to, and the side ("copy into c1:/data"). */
  path: string;
  side: string;
}

/**
 * Writes a tar stream under the directory `dir` (inside `into.root` when given, else a host
 * path), through the native applier: a directory already there is never replaced by a file.
 */
export async function extractArchive(source: Readable, into: Partial<CopyRoot>, dir: string, options: ExtractOptions): Promise<void> {
  let applier: NativeLayerApplier;
  try {
    applier = openApplier(into, dir);
  } catch (error) {
    source.destroy();
    throw copyErrnoError(error, options.path, options.side);
  }
  const batcher = new EntryBatcher(options.toEntry);
  const parser = new TarParser(batcher);
  let inflight: Promise<void> | undefined;
  const send = async (batch: NativeLayerEntry[]) => {
    if (inflight) await inflight;
    inflight = applier.apply(batch);
    inflight.catch(() => {});
  };
  try {
    for await (const chunk of chunksOf(source)) {
      if (parser.ended) continue;
      parser.write(chunk);
      for (let batch = batcher.take(); batch; batch = batcher.take()) await send(batch);
    }
    parser.finish();
    batcher.flush();
    for (let batch = batcher.take(); batch; batch = batcher.take()) await send(batch);
    if (inflight) await inflight;
    inflight = undefined;
    await applier.finish();
  } catch (error) {
    source.destroy();
    if (inflight) await inflight.catch(() => {});
    throw copyErrnoError(error, options.path, options.side);
  } finally {
    applier.close();
  }
}
