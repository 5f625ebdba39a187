/**
 * Pulls of one image by several processes into one data root, against a real registry behind
 * a proxy that counts blob GETs (each scenario in a network namespace of its own): two pulls
 * at once download each blob once; a pull killed with -9 mid-blob, between layers or
 * mid-unpack leaves nothing partial visible, and the next pull finishes without fetching
 * again in full what the killed one had.
 */
import * as path from 'node:path';
import { runInTestNetwork } from '../support/test-network';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { buildMultiLayerImage } from './pull-processes-scenarios';
import type * as scenarios from './pull-processes-scenarios';

const SCENARIOS = path.join(__dirname, 'pull-processes-scenarios.ts');
type Result<K extends 'twoProcessesOneDownload' | 'killedPull'> = Awaited<ReturnType<(typeof scenarios)[K]>>;

jest.setTimeout(240_000);

let layout: string;
beforeAll(() => {
  layout = path.join(tempDir('tsc-pull-procs-layout-'), 'layout');
  buildMultiLayerImage(layout);
});
afterAll(() => removeTempDirs());

test('two processes pulling one image at once: each blob is downloaded once, both get the image', async () => {
  const r = await runInTestNetwork<Result<'twoProcessesOneDownload'>>(SCENARIOS, 'twoProcessesOneDownload', { layout }, 200_000);
  // Both were mid-pull together: the blob GETs were held until both had asked for the manifest.
  expect(r.manifestsBeforeRelease).toBe(2);
  expect(r.results).toEqual([
    { code: 0, id: r.image.id, stderr: '' },
    { code: 0, id: r.image.id, stderr: '' },
  ]);
  const blobs = [r.image.id, ...r.image.layers.map((l) => l.digest)];
  expect(r.blobGets).toEqual(Object.fromEntries(blobs.map((d) => [d, 1])));
  expect(r.visible).toEqual({
    blobs: [r.image.digest, ...blobs].sort(),
    blobsNotMatchingTheirName: [],
    layers: [...r.image.chainIds].sort(),
    layersWithoutRecord: [],
    images: [r.image.id],
  });
  expect(r.ingestLeft).toEqual([]);
});

describe.each(['mid-blob', 'between-layers', 'mid-unpack'] as const)('a pulling process killed with -9 %s', (point) => {
  let r: Result<'killedPull'>;
  beforeAll(async () => {
    r = await runInTestNetwork<Result<'killedPull'>>(SCENARIOS, 'killedPull', { layout, point }, 200_000);
  });

  test('leaves no partial blob or layer visible, and no image', () => {
    expect(r.killedBy).toBe('SIGKILL');
    expect(r.afterKill.blobsNotMatchingTheirName).toEqual([]);
    expect(r.afterKill.layersWithoutRecord).toEqual([]);
    expect(r.afterKill.images).toEqual([]);
    expect(r.afterKill.blobs).not.toContain(r.image.digest);
  });

  test('was killed where the scenario says', () => {
    const [, big, many, top] = r.image.layers;
    if (point === 'mid-blob') {
      expect(r.partials[big.digest]).toBeGreaterThanOrEqual(2 * 1024 * 1024);
      expect(r.partials[big.digest]).toBeLessThan(big.size);
      expect(r.afterKill.blobs).not.toContain(big.digest);
    } else if (point === 'between-layers') {
      expect(r.afterKill.layers).toEqual([...r.image.chainIds.slice(0, 3)].sort());
      expect(r.afterKill.blobs).not.toContain(top.digest);
    } else {
      expect(r.unpackedAtKill[r.image.chainIds[2]]).toBe(false);
      expect(r.afterKill.layers).not.toContain(r.image.chainIds[2]);
      expect(r.getsBeforeKill.map((g) => g.digest)).toContain(many.digest);
    }
  });

  test('the next pull finishes the job', () => {
    expect(r.nextPullId).toBe(r.image.id);
    expect(r.afterNextPull).toMatchObject({
      blobsNotMatchingTheirName: [],
      layers: [...r.image.chainIds].sort(),
      layersWithoutRecord: [],
      images: [r.image.id],
    });
    expect(r.ingestLeft).toEqual([]);
    expect(r.layerTempsLeft).toEqual([]);
  });

  test('the next pull fetches no stored blob again, and a partial one only from where it stopped', () => {
    for (const get of r.getsOfNextPull) {
      expect(r.afterKill.blobs).not.toContain(get.digest);
      const partial = r.partials[get.digest] ?? 0;
      expect(get).toEqual(partial > 0 ? { digest: get.digest, range: `bytes=${partial}-` } : { digest: get.digest });
    }
    if (point === 'mid-blob') expect(r.getsOfNextPull.filter((g) => g.digest === r.image.layers[1].digest)).toHaveLength(1);
    if (point === 'between-layers') expect(r.getsOfNextPull).toEqual([{ digest: r.image.layers[3].digest }]);
  });
});
