/**
 * Random access to the members of an uncompressed tar file (an image archive): one pass over
 * the headers records where each member's bytes are, then any member can be read in any
 * order (a `docker save` archive names its layers in manifest.json, which comes last).
 * Reads ustar, pax extended headers (path, size) and GNU long names; checks every header's
 * checksum, so a file that is not a tar (or a compressed one) fails on its first block.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ImageArchiveError } from '../../errors/errors';

const BLOCK = 512;

export type TarMemberType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarMember {
  name: string;
  type: TarMemberType;
  /** Byte offset of the member's data in the tar file. */
  offset: number;
  size: number;
  /** Link target (symlink, hard link), as written. */
  linkName?: string;
}

/** A member name as a lookup key: no "./" prefix, no trailing or doubled slashes. */
export function memberKey(name: string): string {
  return path.posix.normalize(name.replace(/^\/+/, '')).replace(/^\.\//, '').replace(/\/+$/, '');
}

function nulTerminated(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** A numeric header field: octal text, or base-256 (high bit set) for sizes past 8 GiB. */
function numeric(block: Buffer, start: number, length: number, where: string): number {
  const field = block.subarray(start, start + length);
  if ((field[0] as number) & 0x80) {
    let value = (field[0] as number) & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (field[i] as number);
    if (!Number.isSafeInteger(value)) throw new ImageArchiveError(where, 'a size too large to represent');
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ImageArchiveError(where, `header field ${JSON.stringify(text)} is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  if (!/^[0-7]+$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return sum === parseInt(stored, 8);
}

/** The records of a pax extended header ("<len> key=value\n"...). */
function paxRecords(data: Buffer, where: string): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? NaN : parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > data.length) throw new ImageArchiveError(where, 'a malformed pax header');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

const TYPES: Record<string, TarMemberType> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };
const MAX_META = 1024 * 1024;

export class TarIndex {
  readonly file: string;
  readonly #members = new Map<string, TarMember>();

  private constructor(file: string) {
    this.file = file;
  }

  /** Reads every header of `file`; ImageArchiveError for anything that is not a well-formed tar. */
  static async open(file: string): Promise<TarIndex> {
    const index = new TarIndex(file);
    const handle = await fs.promises.open(file, 'r');
    try {
      await index.#scan(handle, (await handle.stat()).size);
    } finally {
      await handle.close();
    }
    return index;
  }

  async #scan(handle: fs.promises.FileHandle, fileSize: number): Promise<void> {
    const block = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax = new Map<string, string>();
    for (;;) {
      const where = `${path.basename(this.file)} at byte ${offset}`;
      const { bytesRead } = await handle.read(block, 0, BLOCK, offset);
      if (bytesRead < BLOCK) throw new ImageArchiveError(where, 'the archive ends inside a header (truncated)');
      if (block.every((b) => b === 0)) return;
      if (!checksumOk(block)) {
        throw new ImageArchiveError(where, offset === 0 ? 'not a tar archive (a compressed archive must be decompressed first)' : 'a tar header with a bad checksum');
      }
      const typeFlag = String.fromCharCode(block[156] as number);
      let size = numeric(block, 124, 12, where);
      if (pax.has('size')) size = Number(pax.get('size'));
      const dataOffset = offset + BLOCK;
      if (!Number.isSafeInteger(size) || size < 0 || dataOffset + size > fileSize) throw new ImageArchiveError(where, 'a member runs past the end of the archive (truncated)');
      const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if (typeFlag === 'x' || typeFlag === 'g' || typeFlag === 'L' || typeFlag === 'K') {
        if (size > MAX_META) throw new ImageArchiveError(where, 'an extended header larger than 1 MiB');
        const data = Buffer.alloc(size);
        await handle.read(data, 0, size, dataOffset);
        if (typeFlag === 'x') pax = paxRecords(data, where);
        if (typeFlag === 'L') longName = data.toString('utf8').replace(/\0+$/, '');
        if (typeFlag === 'K') longLink = data.toString('utf8').replace(/\0+$/, '');
        offset = next;
        continue;
      }
      const prefix = block.subarray(257, 263).toString('latin1').startsWith('ustar') ? nulTerminated(block, 345, 155) : '';
      const headerName = prefix ? `${prefix}/${nulTerminated(block, 0, 100)}` : nulTerminated(block, 0, 100);
      const name = pax.get('path') ?? longName ?? headerName;
      const member: TarMember = { name, type: TYPES[typeFlag] ?? 'other', offset: dataOffset, size };
      const linkName = pax.get('linkpath') ?? longLink ?? nulTerminated(block, 157, 100);
      if (member.type === 'symlink' || member.type === 'hardlink') member.linkName = linkName;
      // A later member of the same name replaces an earlier one, as tar -x would leave it.
      this.#members.set(memberKey(name), member);
      longName = undefined;
      longLink = undefined;
      pax = new Map();
      offset = next;
    }
  }

  /** The members, by their names as written. */
  members(): TarMember[] {
    return [...this.#members.values()];
  }

  /**
   * The regular file a name leads to, following symlinks and hard links inside the archive
   * (older `docker save` links a repeated layer to its first copy); undefined when absent.
   */
  resolve(name: string): TarMember | undefined {
    let key = memberKey(name);
    for (let hops = 0; hops < 16; hops++) {
      if (key.startsWith('../') || key === '..') return undefined;
      const member = this.#members.get(key);
      if (!member) return undefined;
      if (member.type === 'file') return member;
      if (member.type === 'hardlink') key = memberKey(member.linkName as string);
      else if (member.type === 'symlink') key = memberKey(path.posix.join(path.posix.dirname(key), member.linkName as string));
      else return undefined;
    }
    return undefined;
  }

  /** The bytes of a member found by resolve(). */
  read(member: TarMember): Readable {
    if (member.size === 0) return Readable.from([]);
    return fs.createReadStream(this.file, { start: member.offset, end: member.offset + member.size - 1 });
  }
}
