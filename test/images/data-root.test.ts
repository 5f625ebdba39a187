/**
 * The data root: chosen by option, then $TS_CONTAINER_DATA_ROOT, then the default; checked
 * as the state root is before anything is written in it (a directory another user could
 * change is refused, and nothing is made there).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container, ImageStore, UntrustedDataRootError } from '../../lib';
import { DATA_ROOT_ENV, resolveDataRoot } from '../../lib/images/data-root';
import { buildOciLayout, busyboxImage } from '../support/image-fixtures';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

let layout: string;
beforeAll(() => {
  layout = buildOciLayout(path.join(tempDir('tsc-data-root-src-'), 'layout'), busyboxImage('1'));
});
afterAll(removeTempDirs);

describe('which directory', () => {
  const saved = process.env[DATA_ROOT_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[DATA_ROOT_ENV];
    else process.env[DATA_ROOT_ENV] = saved;
  });

  it('the option, else the environment, else /var/lib/ts-container for root', () => {
    delete process.env[DATA_ROOT_ENV];
    expect(resolveDataRoot()).toBe('/var/lib/ts-container');
    process.env[DATA_ROOT_ENV] = '/srv/images/../tsc';
    expect(new ImageStore().dataRoot).toBe('/srv/tsc');
    expect(new ImageStore({ root: 'relative/dir' }).dataRoot).toBe(path.resolve('relative/dir'));
    expect(new ImageStore({ dataRoot: '/a' }).dataRoot).toBe('/a');
    expect(() => new ImageStore({ root: '' })).toThrow(/^root: expected a directory path/);
    expect(() => new ImageStore({ dataRoot: 5 as unknown as string })).toThrow(/^dataRoot: expected a directory path/);
  });

  it('an image imported in one process is listed by a store opened on the same root', async () => {
    const root = tempDir('tsc-data-root-');
    await new ImageStore({ root }).import(layout);
    process.env[DATA_ROOT_ENV] = root;
    expect(await new ImageStore().list()).toHaveLength(1);
  });
});

describe('trust', () => {
  it('refuses a data root in a directory that others can write, and makes nothing there', async () => {
    const open = tempDir('tsc-data-root-open-');
    fs.chmodSync(open, 0o777);
    const store = new ImageStore({ root: path.join(open, 'root') });
    const error = await store.import(layout).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UntrustedDataRootError);
    expect(error).toMatchObject({ code: 'EUNTRUSTEDDATAROOT', path: open });
    expect((error as Error).message).toMatch(/^data root .* is not safe: .* is writable by others/);
    expect(fs.readdirSync(open)).toEqual([]);
  });

  it("refuses a data root owned by another user", async () => {
    const root = path.join(tempDir('tsc-data-root-'), 'theirs');
    fs.mkdirSync(root, { mode: 0o755 });
    fs.chownSync(root, 12345, 12345);
    await expect(new ImageStore({ root }).import(layout)).rejects.toMatchObject({ code: 'EUNTRUSTEDDATAROOT', path: root });
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a container from an image refuses the store once its root turns unsafe, with the same error', async () => {
    const parent = tempDir('tsc-data-root-');
    const root = path.join(parent, 'root');
    const [image] = await new ImageStore({ root }).import(layout);
    fs.chmodSync(parent, 0o777);
    const stateRoot = tempDir('tsc-data-root-state-');
    const error = await (async () => new Container({ image: image.id, imageStore: root, stateRoot }).spawn(['true']).wait())().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UntrustedDataRootError);
    expect(error).toMatchObject({ code: 'EUNTRUSTEDDATAROOT', path: parent });
    expect(fs.readdirSync(root).sort()).toEqual(['images']);
    expect(fs.readdirSync(stateRoot)).toEqual([]);
  });

  it('reading a data root that does not exist lists nothing and makes nothing', async () => {
    const root = path.join(tempDir('tsc-data-root-'), 'not-yet');
    const store = new ImageStore({ root });
    expect(await store.list()).toEqual([]);
    expect(await store.prune()).toEqual({ deleted: [], reclaimedBytes: 0 });
    await expect(store.inspect('anything')).rejects.toMatchObject({ code: 'ENOIMAGE' });
    await expect(store.remove('anything')).rejects.toMatchObject({ code: 'ENOIMAGE' });
    await expect(store.tag('anything', 'other')).rejects.toMatchObject({ code: 'ENOIMAGE' });
    await expect(store.export('anything', path.join(path.dirname(root), 'out.tar'))).rejects.toMatchObject({ code: 'ENOIMAGE' });
    expect(fs.existsSync(root)).toBe(false);
  });
});
