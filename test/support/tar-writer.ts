/**
 * A small tar writer for tests: ustar headers, with a pax header for long names and
 * extended attributes. It writes exactly what it is given (absolute paths, "..", links
 * anywhere, any type flag): the hostile archives of the unpack tests come from here.
 */
import * as zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

export interface TarSpecEntry {
  name: string;
  /** Tar type flag: '0' file (default), '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, or any other. */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  data?: Buffer | string;
  /** Declared size when it must differ from the data's (a truncated archive). */
  size?: number;
  link?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, Buffer | string>;
  /** Other pax records, written as given. */
  pax?: Record<string, string>;
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header(name: string, e: TarSpecEntry, type: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write(octal(e.mode ?? (type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  block.write(octal(e.uid ?? 0, 8), 108, 'latin1');
  block.write(octal(e.gid ?? 0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(e.mtime ?? 1700000000, 12), 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(type, 156, 'latin1');
  block.write((e.link ?? '').slice(0, 100), 157, 'utf8');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.write(octal(e.devMajor ?? 0, 8), 329, 'latin1');
  block.write(octal(e.devMinor ?? 0, 8), 337, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7), 148, 'latin1');
  return block;
}

function padded(data: Buffer): Buffer[] {
  const pad = (512 - (data.length % 512)) % 512;
  return pad ? [data, Buffer.alloc(pad)] : [data];
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

/** The archive's bytes (with the two zero blocks at its end). */
export function tarBytes(entries: TarSpecEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? '0';
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const records: Buffer[] = [];
    if (Buffer.byteLength(e.name) > 100) records.push(paxRecord('path', Buffer.from(e.name)));
    if (e.link && Buffer.byteLength(e.link) > 100) records.push(paxRecord('linkpath', Buffer.from(e.link)));
    for (const [k, v] of Object.entries(e.xattrs ?? {})) records.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.from(v)));
    for (const [k, v] of Object.entries(e.pax ?? {})) records.push(paxRecord(k, Buffer.from(v)));
    if (records.length > 0) {
      const body = Buffer.concat(records);
      parts.push(header('PaxHeader', { name: 'PaxHeader' }, 'x', body.length), ...padded(body));
    }
    parts.push(header(e.name, e, type, e.size ?? data.length), ...padded(data));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function gzipBytes(tar: Buffer): Buffer {
  return zlib.gzipSync(tar);
}

/** zstd with Debian's zstd CLI (test/apt-packages.txt). */
export function zstdBytes(tar: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
}
