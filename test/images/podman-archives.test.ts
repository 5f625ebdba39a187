/**
 * Archives that podman wrote: an image made in podman's own storage without a registry
 * (`podman import` of the busybox rootfs, then a second layer by `podman create` + `cp` +
 * `commit`), saved with `podman save` as docker-archive, oci-archive, oci-dir, docker-dir
 * (containers/image's dir layout) and a multi-image docker-archive. Each imports into an ImageStore as the same image podman holds
 * (config digest, diff ids, config, the reference as podman normalized it) and runs. Podman
 * works in a private storage root under the test's temp dir: the machine's podman state is
 * never touched.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageStore, type Image } from '../../lib';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { useContainers } from '../support/containers';
import { describeWhen } from '../support/skip';
import { removeTempDirs, tempDir } from '../support/temp-dirs';
import { uniqueId } from '../support/unique';

jest.setTimeout(180_000);

const PODMAN = '/usr/bin/podman';
const h = useContainers();

interface PodmanImage {
  Id: string;
  RootFS: { Layers: string[] };
  Config: { Cmd?: string[]; Env?: string[] };
}

describeWhen(fs.existsSync(PODMAN), `${PODMAN} is not installed (apt-get install podman)`)('podman save archives', () => {
  let work: string;
  // An unqualified name: podman stores it as localhost/NAME.
  const name = uniqueId('tsc-podman').toLowerCase();
  const base = `localhost/${name}:1`;
  const top = `localhost/${name}:2`;
  const archives: Record<'docker-archive' | 'oci-archive' | 'oci-dir' | 'docker-dir' | 'multi', string> = { 'docker-archive': '', 'oci-archive': '', 'oci-dir': '', 'docker-dir': '', multi: '' };
  const inspected: Record<string, PodmanImage> = {};

  /** podman with its storage, run state and temp files in the test's dir, and no event log. */
  const podman = (...args: string[]): string =>
    execFileSync(
      PODMAN,
      ['--root', path.join(work, 'storage'), '--runroot', path.join(work, 'run'), '--tmpdir', path.join(work, 'tmp'), '--storage-driver', 'vfs', '--events-backend', 'none', ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );

  // Containers are destroyed after each test (the harness), so the stores can go after all.
  afterAll(removeTempDirs);

  beforeAll(() => {
    work = tempDir('tsc-podman-');
    const rootfsTar = path.join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', ensureBusyboxRootfs(), '--owner=0', '--group=0', '--exclude=./.complete', '-cf', rootfsTar, '.']);
    podman('import', '--change', 'ENV FOO=from-podman', '--change', 'CMD ["/bin/sh","-c","echo base"]', rootfsTar, `${name}:1`);
    // A second layer without running anything: a created container's files, committed.
    const added = path.join(work, 'added.txt');
    fs.writeFileSync(added, 'added by podman cp\n');
    const container = `${name}-ctr`;
    podman('create', '--name', container, base);
    podman('cp', added, `${container}:/etc/added.txt`);
    podman('commit', '-q', '--change', 'CMD ["/bin/sh","-c","cat /etc/added.txt; echo $FOO"]', container, `${name}:2`);
    podman('rm', container);
    for (const ref of [base, top]) inspected[ref] = (JSON.parse(podman('image', 'inspect', ref)) as PodmanImage[])[0];

    for (const format of ['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'] as const) {
      archives[format] = path.join(work, format.endsWith('-dir') ? format : `${format}.tar`);
      podman('save', '--format', format, '-o', archives[format], top);
    }
    archives.multi = path.join(work, 'multi.tar');
    podman('save', '--multi-image-archive', '--format', 'docker-archive', '-o', archives.multi, base, top);
  });

  const diffIds = (image: Image) => image.layers.map((l) => l.diffId);
  const podmanId = (ref: string) => `sha256:${inspected[ref].Id}`;

  test('podman holds what the tests expect: two images, the second one layer more', () => {
    expect(inspected[base].RootFS.Layers).toHaveLength(1);
    expect(inspected[top].RootFS.Layers).toEqual([...inspected[base].RootFS.Layers, expect.stringMatching(/^sha256:/)]);
  });

  test.each(['docker-archive', 'oci-archive', 'oci-dir'] as const)('%s: the same image as in podman, under the name podman gave it', async (format) => {
    const store = new ImageStore({ root: tempDir('tsc-podman-store-') });
    const images = await store.import(archives[format]);
    expect(images).toHaveLength(1);
    const [image] = images;
    expect(image.id).toBe(podmanId(top));
    expect(diffIds(image)).toEqual(inspected[top].RootFS.Layers);
    expect(image.references).toEqual([top]);
    expect(image.config.Cmd).toEqual(inspected[top].Config.Cmd);
    expect(image.config.Env).toEqual(inspected[top].Config.Env);
    expect(image.config.Env).toContain('FOO=from-podman');
    expect((await store.inspect(`${name}:2`)).id).toBe(image.id);
  });

  test('docker-dir (the dir layout): the same image, without a name, since the layout holds none', async () => {
    const store = new ImageStore({ root: tempDir('tsc-podman-store-') });
    const [image, more] = await store.import(archives['docker-dir']);
    expect(more).toBeUndefined();
    expect(image.id).toBe(podmanId(top));
    expect(diffIds(image)).toEqual(inspected[top].RootFS.Layers);
    expect(image.references).toEqual([]);
    expect(image.config.Cmd).toEqual(inspected[top].Config.Cmd);
  });

  test('a dir layout whose layer file is not what the manifest names: ImageArchiveError naming it, nothing stored', async () => {
    const tampered = path.join(tempDir('tsc-podman-tampered-'), 'dir');
    fs.cpSync(archives['docker-dir'], tampered, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(tampered, 'manifest.json'), 'utf8')) as { layers: { digest: string }[] };
    const layerFile = manifest.layers[manifest.layers.length - 1].digest.slice('sha256:'.length);
    fs.appendFileSync(path.join(tampered, layerFile), 'x');
    const store = new ImageStore({ root: tempDir('tsc-podman-store-') });
    await expect(store.import(tampered)).rejects.toMatchObject({ name: 'ImageArchiveError', code: 'EIMAGEARCHIVE', entry: layerFile });
    expect(await store.list()).toEqual([]);
    expect(fs.readdirSync(path.join(store.dataRoot, 'images', 'blobs', 'sha256'))).toEqual([]);
  });

  test('a multi-image docker-archive: both images, the shared base layer stored and unpacked once', async () => {
    const store = new ImageStore({ root: tempDir('tsc-podman-store-') });
    const images = await store.import(archives.multi);
    expect(images.map((i) => i.references)).toEqual([[base], [top]]);
    expect(images.map((i) => i.id)).toEqual([podmanId(base), podmanId(top)]);
    const [baseDirs, topDirs] = [await store.layerDirs(base), await store.layerDirs(top)];
    // layerDirs lists the top layer first, as overlay's lowerdir does.
    expect(topDirs.slice(1)).toEqual(baseDirs);
  });

  test.each(['docker-archive', 'oci-archive'] as const)('a container of the image imported from the %s runs its Cmd with its Env and layers', async (format) => {
    const store = new ImageStore({ root: tempDir('tsc-podman-store-') });
    await store.import(archives[format]);
    const c = h.make({ image: `${name}:2`, imageStore: store });
    const out = await c.spawn(undefined, { stdio: 'pipe' }).output();
    expect(out).toMatchObject({ exitCode: 0, stdout: 'added by podman cp\nfrom-podman\n' });
  });
});
