/**
 * A streaming tar parser: ustar, pax (long names, sizes, times, SCHILY.xattr.* and
 * LIBARCHIVE.xattr.* extended attributes, global headers) and GNU long names and links.
 * Chunks go in with write(); each entry's header and then its data (slices of the chunks
 * given, never copied) come out through a handler, so a layer of any size streams through
 * in constant memory. Nothing else of a chunk is kept past write(): a caller may reuse a
 * chunk once the data slices it handed out are done with. It only parses: what an entry may
 * do is the unpacker's decision.
 */
import { isUtf8 } from 'node:buffer';
import { ImageArchiveError } from '../../errors/errors';

const BLOCK = 512;

/** An entry's type flag as written in its header ('0' regular, '5' directory...). */
export type TarTypeFlag = string;

export interface TarHeader {
  /** The path as the archive names it (pax and GNU long names applied). */
  path: string;
  type: TarTypeFlag;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header. */
  size: number;
  /** Whole seconds since the epoch, and the nanoseconds a pax mtime adds. */
  mtime: number;
  mtimeNsec: number;
  /** Symlink target or hard link target. */
  linkPath: string;
  devMajor: number;
  devMinor: number;
  /** Extended attributes from pax records, in archive order. */
  xattrs: Array<[string, Buffer]>;
  /** pax keys this parser does not interpret (GNU.sparse.* among them), for the caller to judge. */
  unknownPaxKeys: string[];
}

export interface TarHandler {
  /** A header; `data` calls for its `size` bytes follow. */
  entry(header: TarHeader): void;
  data(chunk: Buffer): void;
  /** The end-of-archive marker was read (or the stream ended on an entry boundary). */
  end?(): void;
}

type PaxRecords = Map<string, Buffer>;

enum State {
  Header,
  Data,
  Padding,
  Meta,
  Ended,
}

export class TarParser {
  private state = State.Header;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes left of the current entry's data (or of a meta entry's body). */
  private remaining = 0;
  private padding = 0;
  private metaType = '';
  private metaChunks: Buffer[] = [];
  private pax: PaxRecords | undefined;
  private globalPax: PaxRecords = new Map();
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlockSeen = false;
  /** The path of the entry being read, for errors. */
  current = '';

  constructor(private readonly handler: TarHandler) {}

  get ended(): boolean {
    return this.state === State.Ended;
  }

  write(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.state !== State.Ended) {
      switch (this.state) {
        case State.Data: {
          const n = Math.min(this.remaining, chunk.length - offset);
          this.handler.data(chunk.subarray(offset, offset + n));
          offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.afterBody();
          break;
        }
        case State.Meta: {
          const n = Math.min(this.remaining, chunk.length - offset);
          // Copied: the caller may reuse its chunks once write() returns (only file data are lent out).
          this.metaChunks.push(Buffer.from(chunk.subarray(offset, offset + n)));
          offset += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.readMeta(Buffer.concat(this.metaChunks));
            this.metaChunks = [];
            this.afterBody();
          }
          break;
        }
        case State.Padding: {
          const n = Math.min(this.padding, chunk.length - offset);
          offset += n;
          this.padding -= n;
          if (this.padding === 0) this.state = State.Header;
          break;
        }
        case State.Header: {
          const need = BLOCK - this.pendingBytes;
          const n = Math.min(need, chunk.length - offset);
          if (n === BLOCK) {
            this.readHeader(chunk.subarray(offset, offset + BLOCK));
          } else {
            this.pending.push(Buffer.from(chunk.subarray(offset, offset + n)));
            this.pendingBytes += n;
            if (this.pendingBytes === BLOCK) {
              const block = Buffer.concat(this.pending);
              this.pending = [];
              this.pendingBytes = 0;
              this.readHeader(block);
            }
          }
          offset += n;
          break;
        }
      }
    }
  }

  /** The input has ended: an archive cut inside an entry is an error. */
  finish(): void {
    if (this.state === State.Ended) return;
    // The end: two zero blocks, one (some writers leave out the second), or none at all; the
    // last entry's body complete but its padding to a whole block left out (umoci insert).
    if ((this.state === State.Header && this.pendingBytes === 0) || this.state === State.Padding) {
      this.state = State.Ended;
      this.handler.end?.();
      return;
    }
    throw new ImageArchiveError(this.current || '(archive)', 'the archive ends in the middle of an entry (truncated)');
  }

  private afterBody(): void {
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }

  private readHeader(block: Buffer): void {
    if (isZeroBlock(block)) {
      if (this.zeroBlockSeen) {
        this.state = State.Ended;
        this.handler.end?.();
      }
      this.zeroBlockSeen = true;
      return;
    }
    // Entries after a lone zero block: an archive read one way by one tool and another way by
    // the next (Go's archive/tar, which containerd and umoci use, fails). Refused.
    if (this.zeroBlockSeen) throw new ImageArchiveError(this.current || '(archive)', 'entries after an end-of-archive block');
    verifyChecksum(block, this.current);
    const type = block[156] === 0 ? '0' : String.fromCharCode(block[156]);
    const size = readNumber(block, 124, 12, 'size', this.current);
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > 16 * 1024 * 1024) throw new ImageArchiveError(this.current || '(archive)', `a ${type} header of ${size} bytes`);
      this.metaType = type;
      this.state = size === 0 ? State.Header : State.Meta;
      if (size === 0) this.readMeta(Buffer.alloc(0));
      return;
    }
    const header = this.buildHeader(block, type, size);
    this.current = header.path;
    this.handler.entry(header);
    if (header.size === 0) {
      this.afterBody();
    } else {
      this.remaining = header.size;
      this.padding = (BLOCK - (header.size % BLOCK)) % BLOCK;
      this.state = State.Data;
    }
  }

  private readMeta(body: Buffer): void {
    switch (this.metaType) {
      case 'x':
        this.pax = parsePax(body, this.current);
        break;
      case 'g':
        for (const [k, v] of parsePax(body, this.current)) this.globalPax.set(k, v);
        break;
      case 'L':
        this.longName = nameOf(body);
        break;
      case 'K':
        this.longLink = nameOf(body);
        break;
    }
  }

  private buildHeader(block: Buffer, type: string, size: number): TarHeader {
    const magic = block.toString('latin1', 257, 263);
    const isUstar = magic === 'ustar\0';
    let path = nameOf(block.subarray(0, 100));
    if (isUstar) {
      const prefix = nameOf(block.subarray(345, 500));
      if (prefix) path = `${prefix}/${path}`;
    }
    const records: PaxRecords = new Map(this.globalPax);
    for (const [k, v] of this.pax ?? []) records.set(k, v);
    this.pax = undefined;
    const where = path;
    const header: TarHeader = {
      path,
      type,
      mode: readNumber(block, 100, 8, 'mode', where),
      uid: readNumber(block, 108, 8, 'uid', where),
      gid: readNumber(block, 116, 8, 'gid', where),
      size,
      mtime: readNumber(block, 136, 12, 'mtime', where),
      mtimeNsec: 0,
      linkPath: nameOf(block.subarray(157, 257)),
      devMajor: isUstar || magic === 'ustar ' ? readNumber(block, 329, 8, 'devmajor', where) : 0,
      devMinor: isUstar || magic === 'ustar ' ? readNumber(block, 337, 8, 'devminor', where) : 0,
      xattrs: [],
      unknownPaxKeys: [],
    };
    if (this.longName !== undefined) header.path = this.longName;
    if (this.longLink !== undefined) header.linkPath = this.longLink;
    this.longName = undefined;
    this.longLink = undefined;
    for (const [key, value] of records) applyPax(header, key, value);
    return header;
  }
}

function applyPax(header: TarHeader, key: string, value: Buffer): void {
  const text = () => value.toString('utf8');
  const integer = () => {
    const s = text();
    if (!/^\d+$/.test(s)) throw new ImageArchiveError(header.path, `pax ${key}: not a number: ${JSON.stringify(s)}`);
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new ImageArchiveError(header.path, `pax ${key}: out of range: ${s}`);
    return n;
  };
  switch (key) {
    case 'path':
      header.path = nameOf(value, false);
      return;
    case 'linkpath':
      header.linkPath = nameOf(value, false);
      return;
    case 'size':
      header.size = integer();
      return;
    case 'uid':
      header.uid = integer();
      return;
    case 'gid':
      header.gid = integer();
      return;
    case 'SCHILY.devmajor':
      header.devMajor = integer();
      return;
    case 'SCHILY.devminor':
      header.devMinor = integer();
      return;
    case 'mtime': {
      const m = /^(-?\d+)(?:\.(\d{1,9})\d*)?$/.exec(text());
      if (!m) throw new ImageArchiveError(header.path, `pax mtime: not a time: ${JSON.stringify(text())}`);
      header.mtime = Number(m[1]);
      header.mtimeNsec = m[2] ? Number(m[2].padEnd(9, '0')) : 0;
      // The sign is the whole value's: "-1.5" is 1.5 s before the epoch, -2 s + 0.5 s.
      if (m[1].startsWith('-') && header.mtimeNsec > 0) {
        header.mtime -= 1;
        header.mtimeNsec = 1_000_000_000 - header.mtimeNsec;
      }
      return;
    }
    case 'atime':
    case 'ctime':
    case 'uname':
    case 'gname':
    case 'comment':
    case 'charset':
    case 'hdrcharset':
      return;
  }
  if (key.startsWith('SCHILY.xattr.')) {
    header.xattrs.push([key.slice('SCHILY.xattr.'.length), value]);
    return;
  }
  if (key.startsWith('LIBARCHIVE.xattr.')) {
    const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
    const decoded = Buffer.from(text(), 'base64');
    // Both forms of one attribute: the SCHILY one (raw bytes) stands.
    if (!header.xattrs.some(([k]) => k === name)) header.xattrs.push([name, decoded]);
    return;
  }
  header.unknownPaxKeys.push(key);
}

/** "%d %s=%s\n" records; the length counts the whole record. Values are bytes (xattrs). */
function parsePax(body: Buffer, where: string): PaxRecords {
  const records: PaxRecords = new Map();
  let offset = 0;
  while (offset < body.length) {
    if (body[offset] === 0) break;
    const space = body.indexOf(0x20, offset);
    if (space < 0) throw new ImageArchiveError(where || '(archive)', 'a malformed pax record');
    const length = Number(body.toString('latin1', offset, space));
    if (!Number.isSafeInteger(length) || length <= space - offset + 1 || offset + length > body.length) {
      throw new ImageArchiveError(where || '(archive)', 'a malformed pax record length');
    }
    const record = body.subarray(space + 1, offset + length - 1); // without the final "\n"
    const eq = record.indexOf(0x3d);
    if (eq <= 0 || body[offset + length - 1] !== 0x0a) throw new ImageArchiveError(where || '(archive)', 'a malformed pax record');
    records.set(record.toString('utf8', 0, eq), Buffer.from(record.subarray(eq + 1)));
    offset += length;
  }
  return records;
}

/**
 * A name field (NUL-terminated unless `terminated` is false). Names are written to disk as
 * the UTF-8 of their JavaScript string: bytes that are not UTF-8 could not come out as they
 * went in, so such a name is refused rather than altered.
 */
function nameOf(bytes: Buffer, terminated = true): string {
  const nul = terminated ? bytes.indexOf(0) : -1;
  const name = nul < 0 ? bytes : bytes.subarray(0, nul);
  if (!isUtf8(name)) {
    throw new ImageArchiveError(name.toString('latin1'), 'a name that is not UTF-8 (it could not be written exactly)');
  }
  return name.toString('utf8');
}

function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.toString('utf8', 0, nul < 0 ? bytes.length : nul);
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Octal (NUL- or space-terminated), or GNU base-256 when the first byte's high bit is set. */
function readNumber(block: Buffer, offset: number, length: number, field: string, where: string): number {
  const first = block[offset];
  if (first & 0x80) {
    if (first === 0xff) throw new ImageArchiveError(where || '(archive)', `a negative ${field}`);
    let value = first & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[offset + i];
    if (!Number.isSafeInteger(value)) throw new ImageArchiveError(where || '(archive)', `${field} out of range`);
    return value;
  }
  let value = 0;
  let i = offset;
  const end = offset + length;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  for (; i < end; i++) {
    const c = block[i];
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37) throw new ImageArchiveError(where || '(archive)', `a malformed ${field} field in its header`);
    value = value * 8 + (c - 0x30);
  }
  return value;
}

function verifyChecksum(block: Buffer, previous: string): void {
  const stored = readNumber(block, 148, 8, 'checksum', previous);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new ImageArchiveError(cString(block.subarray(0, 100)) || previous || '(archive)', 'header checksum mismatch (not a tar archive, or corrupt)');
  }
}
