/**
 * Where pods are kept: one record per pod under <dataRoot>/pods/<name>.json, and one file per
 * member container under <dataRoot>/pods/<name>.members/, changed under a flock on
 * <dataRoot>/pods/.lock. Any process sees them, as every process sees the containers of a
 * state root. A record names the pod's pause container (the process that holds its
 * namespaces) and the state root it lives in; a member file names a container that joined.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withFileLock } from '../images/file-lock';
import { verifyDataRoot } from '../images/data-root';
import { POD_NAME_PATTERN } from '../options/namespace-sharing';

export interface PodRecord {
  version: 1;
  name: string;
  /** ISO 8601 time of Pod.create. */
  created: string;
  /** 'creating' until the pause container runs; a record left so by a dead maker is swept. */
  phase: 'creating' | 'ready';
  /** The container whose process holds the pod's namespaces. */
  pause: { id: string; stateRoot: string };
  /** The network the pause container is attached to, or null for only lo. */
  network: string | null;
  /** The published ports, as given to Pod.create. */
  ports: unknown[];
  /** The process making the pod, while phase is 'creating'. */
  maker: { pid: number; startTime: string };
}

/** A container that joined the pod: its id and the state root that holds it. */
export interface PodMemberEntry {
  id: string;
  stateRoot: string;
}

const PODS_DIR = 'pods';
const RECORD_SUFFIX = '.json';
const MEMBERS_SUFFIX = '.members';

export class PodStore {
  readonly dir: string;

  private constructor(readonly dataRoot: string) {
    this.dir = path.join(dataRoot, PODS_DIR);
  }

  /** The store of a data root, checked (and made, with `create`); null when it has none yet. */
  static open(dataRoot: string, create: boolean): PodStore | null {
    if (!verifyDataRoot(dataRoot, create)) return null;
    const store = new PodStore(dataRoot);
    if (create) fs.mkdirSync(store.dir, { recursive: true, mode: 0o700 });
    else if (!fs.existsSync(store.dir)) return null;
    return store;
  }

  /** Runs fn holding the store's lock: every change of records and members is made so. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withFileLock(path.join(this.dir, '.lock'), fn);
  }

  recordPath(name: string): string {
    return path.join(this.dir, name + RECORD_SUFFIX);
  }

  membersDir(name: string): string {
    return path.join(this.dir, name + MEMBERS_SUFFIX);
  }

  /** The pods' names, in no order. */
  names(): string[] {
    let entries: string[];
    try {
      entries = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return entries
      .filter((entry) => entry.endsWith(RECORD_SUFFIX))
      .map((entry) => entry.slice(0, -RECORD_SUFFIX.length))
      .filter((name) => POD_NAME_PATTERN.test(name));
  }

  /** The record of a pod, or undefined when there is none (or it cannot be read: half written). */
  read(name: string): PodRecord | undefined {
    if (!POD_NAME_PATTERN.test(name)) return undefined;
    try {
      const record = JSON.parse(fs.readFileSync(this.recordPath(name), 'utf8')) as PodRecord;
      return record.version === 1 && record.name === name ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes a record whole: to a temporary name, then renamed over the old one. */
  write(record: PodRecord): void {
    writeAtomically(this.recordPath(record.name), JSON.stringify(record, null, 2));
  }

  /** Removes a pod's record and its member files. */
  remove(name: string): void {
    fs.rmSync(this.membersDir(name), { recursive: true, force: true });
    fs.rmSync(this.recordPath(name), { force: true });
  }

  addMember(name: string, member: PodMemberEntry): void {
    fs.mkdirSync(this.membersDir(name), { recursive: true, mode: 0o700 });
    writeAtomically(path.join(this.membersDir(name), member.id), JSON.stringify(member));
  }

  removeMember(name: string, id: string): void {
    fs.rmSync(path.join(this.membersDir(name), id), { force: true });
  }

  /** Every container recorded as having joined the pod, running or not. */
  members(name: string): PodMemberEntry[] {
    let ids: string[];
    try {
      ids = fs.readdirSync(this.membersDir(name));
    } catch {
      return [];
    }
    const members: PodMemberEntry[] = [];
    for (const id of ids) {
      if (id.startsWith('.')) continue;
      try {
        const entry = JSON.parse(fs.readFileSync(path.join(this.membersDir(name), id), 'utf8')) as PodMemberEntry;
        if (entry.id === id && typeof entry.stateRoot === 'string') members.push(entry);
      } catch {
        // half written by a maker that died: no container can be behind it
      }
    }
    return members;
  }
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${path.dirname(file)}/.${path.basename(file)}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}
