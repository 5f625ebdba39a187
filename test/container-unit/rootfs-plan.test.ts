/**
 * Which rootfs the helper is asked to make (the plan's rootfs entries), for each combination
 * of rootfs, rootfsOverlay, readonly and image layers; and where the writable layer goes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { normalizeContainerOptions, type ContainerConfig } from '../../lib/options/validate';
import type { ContainerOptions } from '../../lib/options/types';
import { rootfsEntries } from '../../lib/container/rootfs-overlay';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-rootfs-plan-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = (options: ContainerOptions, imageLayers: string[] = []): ContainerConfig => {
  const c = normalizeContainerOptions({ id: 'box', dataRoot: '/data', ...options });
  return imageLayers.length > 0 ? { ...c, imageLayers, userns: null, readonly: options.readonly ?? false } : c;
};

test('a rootfs directory: an overlay of it under the container\'s layer in <dataRoot>/containers/<id>', () => {
  expect(rootfsEntries(config({ rootfs: dir }))).toEqual([
    ['rootfs.lower', dir],
    ['rootfs.upper', '/data/containers/box/upper'],
    ['rootfs.work', '/data/containers/box/work'],
    ['rootfs.readonly', false],
  ]);
});

test('rootfsOverlay: false, or read-only: the directory bound as it is', () => {
  expect(rootfsEntries(config({ rootfs: dir, rootfsOverlay: false }))).toEqual([['rootfs', dir], ['rootfs.readonly', false]]);
  expect(rootfsEntries(config({ rootfs: dir, readonly: true }))).toEqual([['rootfs', dir], ['rootfs.readonly', true]]);
});

test('the host\'s /: no overlay', () => {
  expect(rootfsEntries(config({}))).toEqual([['rootfs', '/'], ['rootfs.host', true], ['rootfs.readonly', true]]);
});

test('image layers: lower layers top first; read-only has no upper, and one read-only layer is bound', () => {
  expect(rootfsEntries(config({}, ['/l/top', '/l/base']))).toEqual([
    ['rootfs.lower', '/l/top'],
    ['rootfs.lower', '/l/base'],
    ['rootfs.upper', '/data/containers/box/upper'],
    ['rootfs.work', '/data/containers/box/work'],
    ['rootfs.readonly', false],
  ]);
  expect(rootfsEntries(config({ readonly: true }, ['/l/top', '/l/base']))).toEqual([
    ['rootfs.lower', '/l/top'],
    ['rootfs.lower', '/l/base'],
    ['rootfs.readonly', true],
  ]);
  expect(rootfsEntries(config({ readonly: true }, ['/l/only']))).toEqual([['rootfs', '/l/only'], ['rootfs.readonly', true]]);
});

test('the data root: the option, else $TS_CONTAINER_DATA_ROOT, else /var/lib/ts-container for root', () => {
  const saved = process.env.TS_CONTAINER_DATA_ROOT;
  try {
    process.env.TS_CONTAINER_DATA_ROOT = '/from/env';
    expect(normalizeContainerOptions({ rootfs: dir }).dataRoot).toBe('/from/env');
    expect(normalizeContainerOptions({ rootfs: dir, dataRoot: 'relative' }).dataRoot).toBe(path.resolve('relative'));
    delete process.env.TS_CONTAINER_DATA_ROOT;
    if (process.getuid?.() === 0) expect(normalizeContainerOptions({ rootfs: dir }).dataRoot).toBe('/var/lib/ts-container');
    expect(() => normalizeContainerOptions({ dataRoot: '' })).toThrow(new TypeError('dataRoot: expected a directory path'));
  } finally {
    if (saved === undefined) delete process.env.TS_CONTAINER_DATA_ROOT;
    else process.env.TS_CONTAINER_DATA_ROOT = saved;
  }
});
