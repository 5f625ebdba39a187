/**
 * Pull from a real registry (Debian's docker-registry) filled by skopeo from umoci-made
 * layouts; every scenario runs in a network namespace of its own (registry-scenarios.ts).
 */
import * as path from 'node:path';
import { runInTestNetwork } from '../support/test-network';
import type * as scenarios from './registry-scenarios';

const SCENARIOS = path.join(__dirname, 'registry-scenarios.ts');
type Result<K extends keyof typeof scenarios> = Awaited<ReturnType<(typeof scenarios)[K]>>;
const run = <K extends keyof typeof scenarios>(name: K, args: unknown = null) => runInTestNetwork<Result<K>>(SCENARIOS, name, args);

jest.setTimeout(180_000);

describe('pull from a registry without auth', () => {
  let r: Result<'pullWithoutAuth'>;
  beforeAll(async () => {
    r = await run('pullWithoutAuth');
  });

  test('the image pulled is the one skopeo pushed: same manifest digest, every blob byte-equal', () => {
    expect(r.digest).toBe(r.expectedDigest);
    expect(r.compared.stored).toEqual(r.compared.wanted);
    expect(r.compared.mismatched).toEqual([]);
    expect(r.compared.leftoverIngest).toEqual([]);
  });

  test('the config is read (the id is its digest) with the Cmd and Env umoci wrote', () => {
    expect(r.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.config).toMatchObject({ Cmd: ['/bin/sh', '-c', 'echo hi'], Env: expect.arrayContaining(['GREETING=hi']) });
  });

  test('each layer goes to the layer store in order, on its parent chain, and unpacks to its diff id', () => {
    expect(r.layerCalls.map((c) => c.chainId)).toEqual(r.chainIds);
    expect(r.layerCalls.map((c) => c.parent)).toEqual([null, r.chainIds[0]]);
    expect(r.chainIds[0]).toBe(r.diffIds[0]);
    expect(r.chainIds[1]).not.toBe(r.diffIds[1]);
    for (const call of r.layerCalls) expect(call.unpackedDigest).toBe(call.diffId);
  });

  test('progress per layer: download up to its size, then verify, unpack, done', () => {
    const layers = Object.values(r.progress);
    expect(layers).toHaveLength(2);
    for (const layer of layers) {
      expect(layer.phases).toEqual(['download', 'verify', 'unpack', 'done']);
      expect(layer.lastDownload).toBe(layer.total);
    }
    expect(r.layerSizes[0]).toBeGreaterThan(3 * 1024 * 1024);
  });

  test('a second pull of the same image downloads nothing', () => {
    expect(r.secondPullDownloads).toBe(0);
  });
});
