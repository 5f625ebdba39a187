/**
 * The streaming tar parser alone (no root, no disk): the same entries and bytes whatever
 * the chunking of its input, down to one byte at a time; GNU base-256 numbers, pax records
 * with binary values, global headers and GNU long links; and where the archive ends.
 */
import { TarParser, type TarHeader } from '../../lib/images/tar/tar-reader';
import { ImageArchiveError } from '../../lib/errors/errors';
import { tarBytes } from '../support/tar-writer';

interface Parsed {
  headers: TarHeader[];
  data: string[];
  ended: boolean;
}

function parse(archive: Buffer, chunkSizes: number[]): Parsed {
  const result: Parsed = { headers: [], data: [], ended: false };
  const parser = new TarParser({
    entry: (h) => {
      result.headers.push(h);
      result.data.push('');
    },
    data: (chunk) => {
      result.data[result.data.length - 1] += chunk.toString('latin1');
    },
    end: () => {
      result.ended = true;
    },
  });
  for (let offset = 0, i = 0; offset < archive.length; i++) {
    const size = chunkSizes[i % chunkSizes.length];
    parser.write(archive.subarray(offset, offset + size));
    offset += size;
  }
  parser.finish();
  return result;
}

const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const ENTRIES = [
  { name: 'dir/', type: '5', mode: 0o755 },
  { name: `dir/${'n'.repeat(150)}`, data: 'long name\n', xattrs: { 'user.bin': binary, 'security.capability': 'cap' } },
  { name: 'dir/block', data: Buffer.alloc(512, 0x61) },
  { name: 'dir/odd', data: Buffer.alloc(1025, 0x62), mode: 0o4755, uid: 1000, gid: 1000 },
  { name: 'dir/empty', data: '' },
  { name: 'dir/link', type: '2', link: `../${'t'.repeat(200)}` },
  { name: 'dir/hard', type: '1', link: 'dir/odd' },
  { name: 'dir/mtime', data: 'x', pax: { mtime: '1700000000.123456789' } },
  // Before 1970 the sign is the whole value's (as Go's archive/tar writes it): -2 s + 0.5 s.
  { name: 'dir/old', data: 'x', pax: { mtime: '-1.5' } },
];

describe('the tar parser', () => {
  it('reads the same entries and data however its input is cut', () => {
    const archive = tarBytes(ENTRIES);
    const whole = parse(archive, [archive.length]);
    expect(whole.ended).toBe(true);
    expect(whole.headers.map((h) => h.path)).toEqual(ENTRIES.map((e) => e.name));
    expect(whole.headers[1].xattrs).toEqual([
      ['user.bin', binary],
      ['security.capability', Buffer.from('cap')],
    ]);
    expect(whole.headers[3]).toMatchObject({ mode: 0o4755, uid: 1000, gid: 1000, size: 1025 });
    expect(whole.headers[5].linkPath).toBe(`../${'t'.repeat(200)}`);
    expect(whole.headers[6]).toMatchObject({ type: '1', linkPath: 'dir/odd' });
    expect(whole.headers[7]).toMatchObject({ mtime: 1700000000, mtimeNsec: 123456789 });
    expect(whole.headers[8]).toMatchObject({ mtime: -2, mtimeNsec: 500000000 });
    expect(whole.data[3]).toBe('b'.repeat(1025));
    for (const sizes of [[1], [7, 511, 513], [512], [100, 1, 2000]]) {
      const cut = parse(archive, sizes);
      expect(cut.headers).toEqual(whole.headers);
      expect(cut.data).toEqual(whole.data);
    }
  });

  it('reads GNU base-256 ids and sizes, GNU long links and global pax headers', () => {
    const archive = Buffer.from(tarBytes([{ name: 'big', data: 'x', uid: 1, gid: 2 }]));
    // uid 1 → base-256 8589934592 (past the octal field's reach); the checksum follows the edit.
    const header = archive.subarray(0, 512);
    header.fill(0, 108, 116);
    header[108] = 0x80;
    header[111] = 0x02;
    header.write('        ', 148, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0`, 148, 'latin1');
    expect(parse(archive, [archive.length]).headers[0].uid).toBe(2 ** 33);

    const gnu = tarBytes([
      { name: '././@LongLink', type: 'K', data: `${'k'.repeat(300)}\0` },
      { name: 'linked', type: '2', link: 'short' },
      { name: 'pax_global_header', type: 'g', data: '12 uid=4242\n' },
      { name: 'owned', data: 'x' },
      { name: 'also-owned', data: 'y' },
    ]);
    const parsed = parse(gnu, [gnu.length]);
    expect(parsed.headers.map((h) => [h.path, h.linkPath, h.uid])).toEqual([
      ['linked', 'k'.repeat(300), 0],
      ['owned', '', 4242],
      ['also-owned', '', 4242],
    ]);
  });

  it('stops at the end-of-archive marker and refuses an archive cut inside an entry', () => {
    const archive = tarBytes([{ name: 'a', data: 'a' }]);
    const trailing = Buffer.concat([archive, Buffer.from('garbage after the end')]);
    expect(parse(trailing, [trailing.length]).headers.map((h) => h.path)).toEqual(['a']);
    // One zero block ends it too; entries after a lone one are refused.
    const oneZero = archive.subarray(0, archive.length - 512);
    expect(parse(oneZero, [oneZero.length]).ended).toBe(true);
    const hidden = Buffer.concat([oneZero, tarBytes([{ name: 'hidden', data: 'h' }])]);
    expect(() => parse(hidden, [hidden.length])).toThrow(/entries after an end-of-archive block/);
    expect(() => parse(archive.subarray(0, 512), [512])).toThrow(ImageArchiveError);
    expect(() => parse(archive.subarray(0, 512), [512])).toThrow(/truncated/);
  });
});

describe('archives as real tools end and root them', () => {
  it('an archive that stops right after the last entry (no padding, no end blocks) reads whole', () => {
    const archive = tarBytes([{ name: 'a', data: 'abc' }]);
    const cut = parse(archive.subarray(0, 512 + 3), [100]);
    expect(cut.ended).toBe(true);
    expect(cut.headers.map((h) => h.path)).toEqual(['a']);
    expect(cut.data).toEqual(['abc']);
  });

  it('an archive cut inside an entry is still refused', () => {
    const archive = tarBytes([{ name: 'a', data: 'abcdef' }]);
    expect(() => parse(archive.subarray(0, 512 + 3), [512])).toThrow(ImageArchiveError);
  });
});
