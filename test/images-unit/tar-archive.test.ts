/**
 * The image archives' tar: what TarWriter writes, GNU tar reads back byte for byte; what GNU
 * tar writes (long names, links), TarIndex finds by name; a broken tar is refused.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ImageArchiveError } from '../../lib/errors/errors';
import { TarIndex } from '../../lib/images/archive/tar-index';
import { TarWriter } from '../../lib/images/archive/tar-writer';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-tar-unit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

it('TarWriter output lists and extracts with GNU tar, long names included', async () => {
  const file = path.join(dir, 'written.tar');
  const long = `blobs/${'x'.repeat(150)}/end`;
  const tar = new TarWriter(fs.createWriteStream(file));
  await tar.file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await tar.directory('blobs');
  await tar.fileFromStream(long, 7, Readable.from([Buffer.from('seven!\n')]));
  await tar.file('empty', Buffer.alloc(0));
  await tar.finish();
  expect(fs.statSync(file).size % 512).toBe(0);
  expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n')).toEqual(['oci-layout', 'blobs/', long, 'empty']);
  const out = path.join(dir, 'extracted');
  fs.mkdirSync(out);
  execFileSync('tar', ['-xf', file, '-C', out]);
  expect(fs.readFileSync(path.join(out, long), 'utf8')).toBe('seven!\n');
  const index = await TarIndex.open(file);
  expect(await text(index.read(index.resolve(long)!))).toBe('seven!\n');
  expect(await text(index.read(index.resolve('./empty')!))).toBe('');
});

it('fileFromStream refuses a stream of another length than announced', async () => {
  const tar = new TarWriter(fs.createWriteStream(path.join(dir, 'short.tar')));
  await expect(tar.fileFromStream('f', 10, Readable.from([Buffer.from('abc')]))).rejects.toThrow(/3 bytes, not 10/);
});

it("TarIndex reads GNU tar's long names and follows links inside the archive, never out of it", async () => {
  const src = path.join(dir, 'src');
  const deep = path.join(src, 'd'.repeat(120));
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'layer.tar'), 'layer bytes');
  fs.symlinkSync(`${'d'.repeat(120)}/layer.tar`, path.join(src, 'link.tar'));
  fs.symlinkSync('../../etc/passwd', path.join(src, 'escape'));
  for (const format of ['gnu', 'posix']) {
    const file = path.join(dir, `${format}.tar`);
    execFileSync('tar', ['--format', format, '-cf', file, '-C', src, '.']);
    const index = await TarIndex.open(file);
    expect(await text(index.read(index.resolve(`${'d'.repeat(120)}/layer.tar`)!))).toBe('layer bytes');
    expect(await text(index.read(index.resolve('link.tar')!))).toBe('layer bytes');
    expect(index.resolve('escape')).toBeUndefined();
    expect(index.resolve('missing')).toBeUndefined();
  }
});

it('refuses a file that is not a tar, and a truncated one, naming the byte offset', async () => {
  const notTar = path.join(dir, 'not.tar');
  fs.writeFileSync(notTar, Buffer.alloc(1024, 'x'));
  await expect(TarIndex.open(notTar)).rejects.toThrow(ImageArchiveError);
  await expect(TarIndex.open(notTar)).rejects.toThrow(/not.tar at byte 0: not a tar archive/);
  const whole = path.join(dir, 'gnu.tar');
  const cut = path.join(dir, 'cut.tar');
  fs.writeFileSync(cut, fs.readFileSync(whole).subarray(0, 1536));
  await expect(TarIndex.open(cut)).rejects.toThrow(/truncated/);
});
