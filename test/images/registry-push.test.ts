/**
 * Push to a real registry (Debian's docker-registry), checked by skopeo copying the image back
 * and by pulling it again; uploads go through a proxy that logs them and injects faults.
 */
import * as path from 'node:path';
import { runInTestNetwork } from '../support/test-network';
import type * as scenarios from './registry-scenarios';

const SCENARIOS = path.join(__dirname, 'registry-scenarios.ts');
type Result<K extends keyof typeof scenarios> = Awaited<ReturnType<(typeof scenarios)[K]>>;

jest.setTimeout(180_000);

describe('push, then pull back', () => {
  let r: Result<'pushAndPullBack'>;
  beforeAll(async () => {
    r = await runInTestNetwork<Result<'pushAndPullBack'>>(SCENARIOS, 'pushAndPullBack');
  });

  test('the digest pushed is the digest in the store, and skopeo copies the same image back from each repository', () => {
    for (const pushed of [r.mono, r.chunked, r.mounted, r.again]) expect(pushed.digest).toBe(r.source);
    expect(r.backDigests).toEqual({ 'copies/mono': r.source, 'copies/chunked': r.source, 'copies/mounted': r.source });
  });

  test('monolithic upload: one POST and one PUT per blob, no PATCH', () => {
    expect(Object.values(r.mono.blobs)).toEqual(['uploaded', 'uploaded', 'uploaded']);
    expect(r.monoLog).toEqual({ posts: 3, patches: 0, blobPuts: 3, mounts: 0 });
  });

  test('chunked upload: the big layer goes in PATCHes (one reset chunk sent again), small blobs whole', () => {
    expect(Object.values(r.chunked.blobs)).toEqual(['uploaded', 'uploaded', 'uploaded']);
    // 3 MiB and a bit in 1 MiB chunks: 4 PATCHes, plus the one retried after the reset.
    expect(r.chunkedLog).toEqual({ posts: 3, patches: 5, blobPuts: 3, mounts: 0 });
  });

  test('cross-repository mount: every blob mounted from the repository that has it, nothing uploaded', () => {
    expect(Object.values(r.mounted.blobs)).toEqual(['mounted', 'mounted', 'mounted']);
    expect(r.mountedLog).toEqual({ posts: 3, patches: 0, blobPuts: 0, mounts: 3 });
  });

  test('an aborted push rejects with AbortError and leaves no manifest in the registry', () => {
    expect(r.aborted).toMatchObject({ ok: false, error: { name: 'AbortError' } });
    expect(r.abortedManifestStatus).toBe(404);
  });

  test('a second push to the same repository finds every blob there and uploads none', () => {
    expect(Object.values(r.again.blobs)).toEqual(['exists', 'exists', 'exists']);
    expect(r.againLog).toEqual({ posts: 0, patches: 0, blobPuts: 0, mounts: 0 });
  });

  test('the pushed image pulls back byte for byte', () => {
    expect(r.pulledBack).toBe(r.source);
    expect(r.backCompared.stored).toEqual(r.backCompared.wanted);
    expect(r.backCompared.mismatched).toEqual([]);
  });
});
