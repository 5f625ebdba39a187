/**
 * copyIn and copyOut (issue 13, "For service containers"): files into and out of a container
 * as docker cp copies them, checked the way a user would: by reading them back inside the
 * container with its own tools, and on the host.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContainerCopyError, ContainerStoppedError, type Container } from '../lib';
import { TarParser, type TarHeader } from '../lib/images/tar/tar-reader';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';
import { tarBytes } from './support/tar-writer';

const rootfs = ensureBusyboxRootfs();
const harness = useContainers({ rootfs });

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-copy-'));
  harness.tempDirs.push(dir);
  return dir;
}

/** A running container that sleeps until destroyed. */
async function running(options: Parameters<typeof harness.make>[0] = {}): Promise<Container> {
  const c = harness.make(options);
  c.spawn(['sleep', '1000'], { stdio: 'ignore' });
  await c.state();
  for (let i = 0; i < 100 && (await c.state()).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
  return c;
}

async function inside(c: Container, script: string): Promise<string> {
  const out = await c.exec(['sh', '-c', script], { stdio: 'pipe' }).output();
  if (out.exitCode !== 0) throw new Error(`${script}: exit ${out.exitCode}: ${out.stderr}`);
  return out.stdout;
}

/** The entries of a tar stream: name, type and contents. */
async function entriesOf(stream: Readable): Promise<{ path: string; type: string; data: string; uid: number; linkPath: string }[]> {
  const out: { path: string; type: string; data: string; uid: number; linkPath: string }[] = [];
  const parser = new TarParser({
    entry: (h: TarHeader) => out.push({ path: h.path, type: h.type, data: '', uid: h.uid, linkPath: h.linkPath }),
    data: (chunk: Buffer) => {
      const last = out[out.length - 1];
      if (last) last.data += chunk.toString();
    },
    end: () => undefined,
  });
  for await (const chunk of stream) parser.write(chunk as Buffer);
  parser.finish();
  return out;
}

describe('copyIn', () => {
  test('a Buffer or string becomes one file, owned by root, mode 0644', async () => {
    const c = await running();
    await c.copyIn(Buffer.from('from a buffer\n'), '/tmp/buffer.txt');
    await c.copyIn('from a string\n', '/tmp/string.txt');
    expect(await inside(c, 'cat /tmp/buffer.txt /tmp/string.txt')).toBe('from a buffer\nfrom a string\n');
    expect(await inside(c, 'stat -c "%u:%g %a" /tmp/string.txt')).toBe('0:0 644\n');
    // Again: the file is replaced.
    await c.copyIn('second\n', '/tmp/string.txt');
    expect(await inside(c, 'cat /tmp/string.txt')).toBe('second\n');
  });

  test('a tar stream is extracted under an existing directory, owners and modes kept', async () => {
    const c = await running();
    const tar = tarBytes([
      { name: 'conf/', type: '5', mode: 0o750, uid: 7, gid: 8 },
      { name: 'conf/app.ini', data: 'key=value\n', mode: 0o600, uid: 7, gid: 8 },
      { name: 'conf/link', type: '2', link: 'app.ini' },
    ]);
    await c.copyIn(Readable.from([tar]), '/tmp');
    expect(await inside(c, 'cat /tmp/conf/link; stat -c "%n %u:%g %a" /tmp/conf /tmp/conf/app.ini')).toBe(
      'key=value\n/tmp/conf 7:8 750\n/tmp/conf/app.ini 7:8 600\n',
    );
  });

  test('a host directory is copied recursively: into a directory, or as a new name', async () => {
    const c = await running();
    const host = tempDir();
    fs.mkdirSync(path.join(host, 'site', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(host, 'site', 'index.html'), '<h1>hi</h1>\n');
    fs.writeFileSync(path.join(host, 'site', 'sub', 'x'), 'x\n');
    fs.symlinkSync('/etc/passwd', path.join(host, 'site', 'passwd-link'));
    await c.copyIn({ hostPath: path.join(host, 'site') }, '/tmp');
    await c.copyIn({ hostPath: path.join(host, 'site') }, '/tmp/renamed');
    expect(await inside(c, 'cat /tmp/site/index.html /tmp/site/sub/x /tmp/renamed/sub/x; readlink /tmp/renamed/passwd-link')).toBe(
      '<h1>hi</h1>\nx\nx\n/etc/passwd\n',
    );
    expect(await inside(c, 'stat -c %u:%g /tmp/site/sub/x')).toBe('0:0\n');
    // "SRC/." copies the contents.
    await inside(c, 'mkdir /tmp/contents');
    await c.copyIn({ hostPath: `${path.join(host, 'site')}/.` }, '/tmp/contents');
    expect(await inside(c, 'ls /tmp/contents')).toBe('index.html\npasswd-link\nsub\n');
    // A host file onto a new name.
    await c.copyIn({ hostPath: path.join(host, 'site', 'index.html') }, '/tmp/page.html');
    expect(await inside(c, 'cat /tmp/page.html')).toBe('<h1>hi</h1>\n');
  });

  test('bad requests are typed errors and change nothing', async () => {
    const c = await running();
    await expect(c.copyIn('x', '/no/such/dir/file')).rejects.toMatchObject({ name: 'ContainerCopyError', code: 'ENOENT' });
    await expect(c.copyIn(Readable.from([tarBytes([])]), '/no-such-dir')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(c.copyIn('x', '/tmp/')).rejects.toBeInstanceOf(ContainerCopyError);
    // A file never replaces a directory.
    await inside(c, 'mkdir /tmp/keep && touch /tmp/keep/inside');
    await expect(c.copyIn('x', '/tmp/keep')).rejects.toMatchObject({ code: 'EISDIR' });
    expect(await inside(c, 'ls /tmp/keep')).toBe('inside\n');
    // A directory onto a file.
    const host = tempDir();
    fs.mkdirSync(path.join(host, 'd'));
    await inside(c, 'echo f > /tmp/afile');
    await expect(c.copyIn({ hostPath: path.join(host, 'd') }, '/tmp/afile')).rejects.toMatchObject({ code: 'ECONTAINERCOPY' });
    expect(await inside(c, 'cat /tmp/afile')).toBe('f\n');
    await expect(c.copyIn(42 as never, '/tmp/x')).rejects.toBeInstanceOf(TypeError);
    await expect(c.copyIn({ hostPath: path.join(host, 'missing') }, '/tmp')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test("paths resolve inside the container's root: an absolute symlink in the container stays in it", async () => {
    const c = await running();
    const marker = path.join(tempDir(), 'host-file');
    fs.writeFileSync(marker, 'host\n');
    // In the container, /tmp/out points at the host's temp dir's path: inside the container, that path is the container's.
    await inside(c, `mkdir -p ${path.dirname(marker)} && ln -s ${path.dirname(marker)} /tmp/out`);
    await c.copyIn('container\n', '/tmp/out/host-file');
    expect(fs.readFileSync(marker, 'utf8')).toBe('host\n');
    expect(await inside(c, `cat ${marker}`)).toBe('container\n');
  });
});

describe('copyOut', () => {
  test('a tar stream of a file or directory under its own name; "DIR/." its contents', async () => {
    const c = await running();
    await inside(c, 'mkdir -p /tmp/d/e && echo one > /tmp/d/one && echo two > /tmp/d/e/two && ln -s one /tmp/d/link');
    const file = await entriesOf(await c.copyOut('/tmp/d/one'));
    expect(file).toEqual([expect.objectContaining({ path: 'one', type: '0', data: 'one\n' })]);
    const dir = await entriesOf(await c.copyOut('/tmp/d'));
    expect(dir.map((e) => e.path).sort()).toEqual(['d/', 'd/e/', 'd/e/two', 'd/link', 'd/one']);
    expect(dir.find((e) => e.path === 'd/link')).toMatchObject({ type: '2', linkPath: 'one' });
    const contents = await entriesOf(await c.copyOut('/tmp/d/.'));
    expect(contents.map((e) => e.path).sort()).toEqual(['e/', 'e/two', 'link', 'one']);
  });

  test('the stream pipes as any Readable does', async () => {
    const c = await running();
    await inside(c, 'mkdir -p /tmp/p && seq 1 20000 > /tmp/p/big');
    const file = path.join(tempDir(), 'p.tar');
    await pipeline(await c.copyOut('/tmp/p'), fs.createWriteStream(file));
    const listed = await entriesOf(fs.createReadStream(file));
    expect(listed.map((e) => e.path)).toEqual(['p/', 'p/big']);
    expect(listed[1]?.data.split('\n').length).toBe(20001);
  });

  test('to a host path: into a directory, or as a new name', async () => {
    const c = await running();
    await inside(c, 'mkdir -p /tmp/d/e && echo one > /tmp/d/one && echo two > /tmp/d/e/two');
    const host = tempDir();
    await c.copyOut('/tmp/d', host);
    expect(fs.readFileSync(path.join(host, 'd', 'e', 'two'), 'utf8')).toBe('two\n');
    await c.copyOut('/tmp/d', path.join(host, 'copy'));
    expect(fs.readFileSync(path.join(host, 'copy', 'one'), 'utf8')).toBe('one\n');
    await c.copyOut('/tmp/d/one', path.join(host, 'one.txt'));
    expect(fs.readFileSync(path.join(host, 'one.txt'), 'utf8')).toBe('one\n');
  });

  test('a missing path rejects with ENOENT before any stream; a stopped overlay container is ContainerStoppedError', async () => {
    const c = await running();
    await expect(c.copyOut('/no/such/file')).rejects.toMatchObject({ name: 'ContainerCopyError', code: 'ENOENT' });
    await expect(c.copyOut('/tmp/none', path.join(tempDir(), 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
    c.kill();
    await c.wait();
    await expect(c.copyOut('/etc/passwd')).rejects.toBeInstanceOf(ContainerStoppedError);
  });
});

describe('other containers', () => {
  test('in a user namespace, owners are the container\'s ids both ways', async () => {
    const c = await running({ userns: true });
    await c.copyIn('mine\n', '/tmp/mine');
    await c.copyIn(Readable.from([tarBytes([{ name: 'owned', data: 'x', uid: 7, gid: 8 }])]), '/tmp');
    expect(await inside(c, 'stat -c "%n %u:%g" /tmp/mine /tmp/owned')).toBe('/tmp/mine 0:0\n/tmp/owned 7:8\n');
    const out = await entriesOf(await c.copyOut('/tmp/owned'));
    expect(out).toEqual([expect.objectContaining({ path: 'owned', uid: 7, data: 'x' })]);
    // An owner the namespace does not map is refused, not written as some host id.
    await expect(c.copyIn(Readable.from([tarBytes([{ name: 'far', data: 'x', uid: 4_000_000 }])]), '/tmp')).rejects.toMatchObject({
      name: 'ContainerCopyError',
      code: 'EINVAL',
    });
  });

  test("the host's / (its own user namespace, a /tmp mounted in it): a host directory lands owned by the container's root", async () => {
    const c = await running({ rootfs: '/' });
    const site = path.join(tempDir(), 'site');
    fs.mkdirSync(path.join(site, 'css'), { recursive: true });
    fs.writeFileSync(path.join(site, 'index.html'), '<h1>hi</h1>\n');
    fs.writeFileSync(path.join(site, 'css', 'a.css'), 'b{}\n');
    await c.copyIn({ hostPath: site }, '/tmp');
    await c.copyIn('note\n', '/tmp/note');
    expect(await inside(c, 'cd /tmp && stat -c "%n %u:%g" site site/index.html site/css site/css/a.css note')).toBe(
      'site 0:0\nsite/index.html 0:0\nsite/css 0:0\nsite/css/a.css 0:0\nnote 0:0\n',
    );
    expect(await inside(c, 'cat /tmp/site/index.html /tmp/site/css/a.css')).toBe('<h1>hi</h1>\nb{}\n');
    const back = path.join(tempDir(), 'back');
    await c.copyOut('/tmp/site', back);
    expect(fs.readFileSync(path.join(back, 'css', 'a.css'), 'utf8')).toBe('b{}\n');
  });

  test('a stopped container with a plain rootfs directory: copied out of that directory; not into it when read-only', async () => {
    const c = harness.make({ readonly: true });
    await c.spawn(['true'], { stdio: 'ignore' }).wait();
    expect((await c.state()).status).toBe('stopped');
    const hosts = await entriesOf(await c.copyOut('/etc/hosts'));
    expect(hosts).toEqual([expect.objectContaining({ path: 'hosts', data: fs.readFileSync(path.join(rootfs, 'etc', 'hosts'), 'utf8') })]);
    await expect(c.copyIn('x', '/tmp/x')).rejects.toBeInstanceOf(ContainerStoppedError);
  });

  test('a created container (waiting for start) is copied into before its program runs', async () => {
    const c = harness.make();
    const main = await c.create(['cat', '/tmp/config'], { stdio: 'pipe' });
    await c.copyIn('given before start\n', '/tmp/config');
    await c.start();
    expect((await main.output()).stdout).toBe('given before start\n');
  });
});
