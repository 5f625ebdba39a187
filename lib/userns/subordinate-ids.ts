/**
 * The range of host ids reserved for ts-container in /etc/subuid and /etc/subgid (a
 * `ts-container:<start>:<count>` line, as podman's `userns=auto` takes its ids from a
 * `containers` line). Every user namespace ts-container makes takes its ids from there, so
 * that no container ever runs as ids that a user of the host may become with newuidmap.
 * Root appends the line when it is missing: the first free range of 2^28 ids above every
 * other entry and above what useradd hands out (SUB_UID_MAX in /etc/login.defs).
 */
import * as fs from 'node:fs';

export const SUBORDINATE_OWNER = 'ts-container';
/** 4096 blocks of 65536 ids. */
export const RESERVED_RANGE_SIZE = 2 ** 28;
/** The highest id a user namespace may map (the kernel reserves 2^32 - 1). */
const MAX_ID = 2 ** 32 - 2;
/** useradd's default SUB_UID_MAX / SUB_GID_MAX when /etc/login.defs does not say. */
const DEFAULT_USERADD_MAX = 600100000;
/** Ranges start on a 65536 boundary: container id n is host id start + n, easy to read. */
const ALIGNMENT = 65536;

export interface SubordinateRange {
  start: number;
  count: number;
}

export interface SubordinateFiles {
  subuid: string;
  subgid: string;
  loginDefs: string;
}

export const SYSTEM_FILES: SubordinateFiles = { subuid: '/etc/subuid', subgid: '/etc/subgid', loginDefs: '/etc/login.defs' };

interface Entry {
  owner: string;
  start: number;
  count: number;
}

function readEntries(file: string): Entry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const entries: Entry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(':');
    if (fields.length !== 3 || fields[0].startsWith('#')) continue;
    const start = Number(fields[1]);
    const count = Number(fields[2]);
    if (Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count > 0) {
      entries.push({ owner: fields[0], start, count });
    }
  }
  return entries;
}

/** The highest id useradd may give a user (SUB_UID_MAX or SUB_GID_MAX), plus one. */
function aboveUseradd(loginDefs: string, key: 'SUB_UID_MAX' | 'SUB_GID_MAX'): number {
  try {
    const match = new RegExp(`^\\s*${key}\\s+(\\d+)`, 'm').exec(fs.readFileSync(loginDefs, 'utf8'));
    if (match) return Number(match[1]) + 1;
  } catch {
    // no login.defs: useradd's built-in default
  }
  return DEFAULT_USERADD_MAX + 1;
}

function ownRange(entries: Entry[]): SubordinateRange | undefined {
  const own = entries.filter((e) => e.owner === SUBORDINATE_OWNER);
  if (own.length === 0) return undefined;
  // The largest, if an administrator gave several.
  const best = own.reduce((a, b) => (b.count > a.count ? b : a));
  return { start: best.start, count: best.count };
}

function appendLine(file: string, range: SubordinateRange): void {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  fs.appendFileSync(file, `${separator}${SUBORDINATE_OWNER}:${range.start}:${range.count}\n`, { mode: 0o644 });
}

/** The first aligned start at or above every entry's end and `floor`, with room for the range. */
function firstFreeStart(entries: Entry[], floor: number): number {
  let start = floor;
  for (const e of entries) start = Math.max(start, e.start + e.count);
  start = Math.ceil(start / ALIGNMENT) * ALIGNMENT;
  if (start + RESERVED_RANGE_SIZE - 1 > MAX_ID) {
    throw new Error(`ts-container: no free range of ${RESERVED_RANGE_SIZE} ids above the entries of /etc/subuid and /etc/subgid; add a "${SUBORDINATE_OWNER}:<start>:<count>" line to both`);
  }
  return start;
}

let announced = false;

/**
 * ts-container's uid and gid ranges. Called under the machine-wide id lock (id-blocks.ts):
 * two processes never both append a line.
 */
export function reservedRanges(files: SubordinateFiles = SYSTEM_FILES): { uid: SubordinateRange; gid: SubordinateRange } {
  const uidEntries = readEntries(files.subuid);
  const gidEntries = readEntries(files.subgid);
  let uid = ownRange(uidEntries);
  let gid = ownRange(gidEntries);
  if (uid && gid) return { uid, gid };
  if (process.getuid?.() !== 0) {
    throw new Error(
      `ts-container: ${files.subuid} and ${files.subgid} have no "${SUBORDINATE_OWNER}" entry, which user namespaces take their ids from; ` +
        'run ts-container once as root (it adds one) or add one by hand',
    );
  }
  // One start for both files where possible: container id n is the same host uid and gid.
  const start = firstFreeStart([...(uid ? [] : uidEntries), ...(gid ? [] : gidEntries)],
    Math.max(aboveUseradd(files.loginDefs, 'SUB_UID_MAX'), aboveUseradd(files.loginDefs, 'SUB_GID_MAX')));
  const added: string[] = [];
  if (!uid) {
    uid = { start, count: RESERVED_RANGE_SIZE };
    appendLine(files.subuid, uid);
    added.push(`${files.subuid}`);
  }
  if (!gid) {
    gid = { start, count: RESERVED_RANGE_SIZE };
    appendLine(files.subgid, gid);
    added.push(`${files.subgid}`);
  }
  if (!announced) {
    announced = true;
    process.emitWarning(
      `added "${SUBORDINATE_OWNER}:${start}:${RESERVED_RANGE_SIZE}" to ${added.join(' and ')}: user namespaces of containers take their ids from this range`,
      { code: 'TS_CONTAINER_SUBIDS' },
    );
  }
  return { uid, gid };
}
