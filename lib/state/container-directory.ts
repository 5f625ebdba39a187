/**
 * One container's state directory, <state root>/<id>:
 * - lock         flocked by the container's owner while it lives: the Node process that made
 *                it, or the monitor of a detached container. No holder means no owner.
 * - state.json   what the maker records: when, how, which cgroups, the first pid (StateRecord)
 * - config.json  the options and command it was made with, to recreate it (SavedConfig)
 * - run.json     the current or last run: pid, start and exit (RunRecord); written by the
 *                owner only (the monitor of a detached container, native/monitor/run_record.cc)
 * - exec.fifo    while created: start() opens it, and the waiting program goes on
 * - started      the time start() let the program go (spawn() records it in state.json)
 * - stop-requested  stop(), kill() or delete asked the container to end: no restart
 * - container.log   a detached container's output, as frames (see log-file.ts)
 *
 * The directory itself is flocked for the moment of each write of state.json, run.json or
 * health.json (by the monitor too): writers of one record go one at a time, without a lock
 * file of their own, whose making would cost an inode on every container's first write.
 *
 * A directory appears whole: it is made under a temporary name, with its lock already held
 * and its files written, then renamed into place. A rename onto an existing (never empty)
 * directory fails, so of two processes making the same id, exactly one wins. It goes the
 * same way: whoever holds its lock renames it out of the way, then lets the lock go and
 * empties it, so the id is free at once and no other maker's directory is ever touched.
 *
 * Every file is opened through the directory's fd with O_NOFOLLOW (state-io.ts); the state
 * root is checked (state-root.ts) before anything in it is read or made.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import type { ContainerOptions, ProcessOptions } from '../options/types';
import type { RestartPolicy } from './types';
import type { CgroupRecord } from '../cgroups/container-cgroup';
import { native } from '../native/binding';
import { ContainerExistsError, ContainerStateFileError, ContainerStateIOError } from '../errors/errors';
import { asFsError, DirectoryHandle, identityOf, readTextAsync, removeTree, stateStep, TEMPORARY_PREFIX, uniqueSuffix } from './state-io';
import { verifyStateRoot, verifyStateRootAsync } from './state-root';
import type { SpreadHomes } from './spread-homes';
import { pauseForTest } from './test-hook';
import { deferRemoval } from './deferred-removal';
import { removeLayerMadeHere, removeWritableLayer } from '../container/writable-layer';
import { isLockFree } from './lock-probe';
import { STATE_FILES, type RunRecord } from '../protocol/generated/state-files';

export interface StateRecord {
  version: 1;
  id: string;
  /** ISO time of create. */
  created: string;
  /** How far the maker got: a 'creating' container whose maker is gone was never made. */
  phase: 'creating' | 'created' | 'started';
  detached: boolean;
  /**
   * Set once its program has exited, by the CLI's foreground run without --rm: the container
   * stays, stopped, with its writable layer, until deleted (as a stopped detached one does).
   */
  kept?: boolean;
  restart: RestartPolicy;
  annotations: Record<string, string>;
  command: string[];
  rootfs: string | null;
  /** The data root holding the container's writable layer (containers/<id>), when it has one. */
  dataRoot?: string;
  cgroup: CgroupRecord | null;
  /** When spawn() started the program (ms since the epoch); create() leaves it to start(). */
  startedAt?: number;
  /** The first process, once cloned. */
  pid: number;
  startTime: string;
  /** The Node process that made it, and its start time. */
  makerPid: number;
  makerStartTime: string;
  /** A pool member not yet given a program (Container.pool): list() and get() do not show it. */
  pooled?: boolean;
}

/** run.json: the current or last run (declared in protocol/state-files.ts; the monitor writes it). */
export type { RunRecord };

/** The JSON-safe part of what a container was made with: enough to make it again. */
export interface SavedConfig {
  options: ContainerOptions;
  argv: string[];
  process: Pick<ProcessOptions, 'env' | 'cwd' | 'user'>;
}

const STATE = STATE_FILES.state;
const CONFIG = STATE_FILES.config;
const RUN = STATE_FILES.run;
const LOCK = STATE_FILES.lock;
const FIFO = STATE_FILES.startFifo;
const STARTED = STATE_FILES.started;
const STOP_REQUESTED = STATE_FILES.stopRequested;
/** Temporary directories of makes in progress start with this (and are never listed). */
export const MAKING_PREFIX = '.making-';
/** A make without its lock file this long after its mkdir died in between (it takes microseconds). */
const ABANDONED_WITHOUT_LOCK_MS = 60_000;
/** A writeAtomic temporary this old was left by a writer that died (a write takes microseconds). */
const ABANDONED_TEMPORARY_MS = 60_000;
/** The lock file's name in a make until its maker holds it. */
const UNPUBLISHED_LOCK = '.lock.unpublished';
/** Directories being removed are renamed to this first (and are never listed). */
export const REMOVING_PREFIX = '.removing-';

/** An ENOENT for a directory whose name now stands for another container. */
function replacedError(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: ${dir} was removed (another container has its name now)`), {
    code: 'ENOENT',
    errno: -os.constants.errno.ENOENT,
    syscall: 'open',
  });
}

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

/** What a state record says of the container's writable layer: its data root (none: no layer) and the container's creation. */
interface RecordedLayer {
  dataRoot?: string;
  created: string;
}

/** The state record in `dir`, as far as its writable layer goes; undefined when it cannot be read. */
function readRecordedLayer(dir: string): Partial<RecordedLayer> | undefined {
  const handle = DirectoryHandle.open(dir);
  let text: string | undefined;
  try {
    text = handle.readText(STATE);
  } finally {
    handle.close();
  }
  return text === undefined ? undefined : (JSON.parse(text) as Partial<StateRecord>);
}

/**
 * The writable layer that the state record in `dir` (moved away, being removed) names under
 * its data root; `known`: what this process wrote there, so that it is not read back. A
 * failure leaves it to the data root's sweep, which finds its state directory gone.
 */
function removeRecordedLayer(dir: string, stateRoot: string, id: string, known: RecordedLayer | undefined): void {
  try {
    const { dataRoot, created } = known ?? readRecordedLayer(dir) ?? {};
    if (typeof dataRoot === 'string' && path.isAbsolute(dataRoot) && typeof created === 'string') {
      // What this process wrote names the data root it checked when it made the layer.
      removeWritableLayer(dataRoot, id, { stateRoot, created }, known !== undefined);
    }
  } catch {
    // see above
  }
}

export class ContainerDirectory {
  readonly root: string;
  readonly id: string;
  readonly dir: string;
  /** The flocked lock file's fd while this process owns the container; else -1. */
  #ownerLockFd = -1;
  /**
   * Device and inode of the directory this object stands for, from the first time it was
   * opened: a directory of the same name made later is another container, never this one.
   */
  #identity: string | undefined;

  constructor(root: string, id: string) {
    this.root = root;
    this.id = id;
    this.dir = path.join(root, id);
  }

  /**
   * Makes the directory, owned (locked) by this process, in a root the caller has checked and
   * made (verifyStateRoot(root, true)). `onExisting` may clear away an abandoned directory of
   * the same id and return true to try once more.
   */
  static create(
    root: string,
    id: string,
    state: StateRecord,
    config: SavedConfig,
    onExisting: (existing: ContainerDirectory) => boolean,
    homes: SpreadHomes | null = null,
  ): ContainerDirectory {
    const rootHandle = stateStep('open the state root', root, () => DirectoryHandle.open(root));
    // Made in a home, where it has one on the root's filesystem (spread-homes.ts), else in the root.
    const home = homes ? openHome(homes) : null;
    const makingName = home && homes ? homes.makingName(id) : `${MAKING_PREFIX}${id}.${process.pid}.${uniqueSuffix()}`;
    const making = path.join(home?.path ?? root, makingName);
    const directory = new ContainerDirectory(root, id);
    let lockFd = -1;
    let rootOpen = true;
    try {
      try {
        // Made under another name and published once locked: a lock file anyone can see is
        // held by its maker until that maker is done or dead (isAbandonedMake; in a home, the
        // maker's pid and start time in its name). The writes are plain: nobody sees the
        // directory before its rename. One native call, every step relative to the fd of the
        // directory it is made in (native/addon/state_directory.h).
        const made = madeStep(making, () =>
          native().makeStateDirectory((home ?? rootHandle).fd, makingName, UNPUBLISHED_LOCK, LOCK, [[STATE, json(state)], [CONFIG, json(config)]], 0o700),
        );
        lockFd = made.lockFd;
        directory.#identity = identityOf(made);
        if (home) pauseForTest('directory-homed');
        for (let attempt = 0; ; attempt++) {
          try {
            // Never over a directory of that name, empty or not: it is another container's.
            if (home) asFsError('rename', () => native().moveIntoPlace(making, rootHandle.fd, id));
            else asFsError('rename', () => native().renameAt(rootHandle.fd, makingName, id));
            break;
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            const taken = code === 'ENOTEMPTY' || code === 'EEXIST';
            if (taken && attempt === 0 && onExisting(new ContainerDirectory(root, id))) continue;
            throw taken ? new ContainerExistsError(id, root) : new ContainerStateIOError('put the state directory in place', directory.dir, error as NodeJS.ErrnoException);
          }
        }
      } catch (error) {
        // Every fd goes first: after EMFILE, the cleanup needs one.
        if (lockFd >= 0) fs.closeSync(lockFd);
        home?.close();
        rootHandle.close();
        rootOpen = false;
        try {
          removeTree(making);
        } catch {
          // the next sweep removes a make whose maker is gone
        }
        throw error;
      }
    } finally {
      if (rootOpen) {
        home?.close();
        rootHandle.close();
      }
    }
    directory.#ownerLockFd = lockFd;
    return directory;
  }

  /**
   * Whether `name` in the root is a make whose maker died before renaming it into place. The
   * maker holds its lock from a moment after the mkdir until it is done, so a lock that can be
   * taken means the maker is gone; pids can't tell (a maker in another pid namespace has a pid
   * that means another process here, or none). A make with no lock file yet is either in that
   * moment or died in it: only one older than ABANDONED_WITHOUT_LOCK_MS is abandoned.
   */
  static isAbandonedMake(root: string, name: string): boolean {
    if (!name.startsWith(MAKING_PREFIX)) return false;
    const dir = path.join(root, name);
    try {
      return isLockFree(path.join(dir, LOCK));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    try {
      return Date.now() - fs.lstatSync(dir).mtimeMs > ABANDONED_WITHOUT_LOCK_MS;
    } catch {
      return false;
    }
  }

  /** ids() without blocking the event loop. */
  static async idsAsync(root: string): Promise<string[]> {
    if (!(await verifyStateRootAsync(root))) return [];
    try {
      return (await fs.promises.readdir(root)).filter((name) => !name.startsWith('.')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** The ids of every container directory in the root (makes and removals in progress excluded). */
  static ids(root: string): string[] {
    if (!verifyStateRoot(root, false)) return [];
    return stateStep('list the state root', root, () => fs.readdirSync(root))
      .filter((name) => !name.startsWith('.'))
      .sort();
  }

  /**
   * Opens the directory (never through a link); the first open fixes which directory this
   * object stands for, and a later one finding another directory under the name is ENOENT.
   */
  #open(step: string): DirectoryHandle {
    return stateStep(step, this.dir, () => {
      const handle = DirectoryHandle.open(this.dir);
      const identity = identityOf(handle.stat());
      this.#identity ??= identity;
      if (identity !== this.#identity) {
        handle.close();
        throw replacedError(this.dir);
      }
      return handle;
    });
  }

  /** "dev:ino" of the directory this object stands for, once it was made or opened here. */
  get identity(): string | undefined {
    return this.#identity;
  }

  #withDirectory<T>(step: string, action: (handle: DirectoryHandle) => T): T {
    const handle = this.#open(step);
    try {
      return action(handle);
    } finally {
      handle.close();
    }
  }

  /** Whether the directory this object stands for is still in the state root under its name. */
  exists(): boolean {
    try {
      this.#open('open the state directory').close();
      return true;
    } catch {
      return false;
    }
  }

  /** Whether the name holds, right now, the very directory this object stands for. */
  #stillInPlace(): boolean {
    try {
      const stat = fs.lstatSync(this.dir);
      this.#identity ??= identityOf(stat);
      return stat.isDirectory() && identityOf(stat) === this.#identity;
    } catch {
      return false;
    }
  }

  get ownerLockFd(): number {
    return this.#ownerLockFd;
  }

  /** Closes this process's hold on the lock (a monitor holds its own copy, or the container is gone). */
  releaseOwnership(): void {
    if (this.#ownerLockFd >= 0) fs.closeSync(this.#ownerLockFd);
    this.#ownerLockFd = -1;
  }

  /**
   * Takes the container's lock if nobody holds it, so that this process may remove the
   * directory; false when another process owns it or it is gone.
   */
  claim(): boolean {
    if (this.#ownerLockFd >= 0) return true;
    let fd: number;
    try {
      // A directory with no lock file (not made by ts-container, or damaged) has no owner either.
      fd = this.#withDirectory('open the lock', (handle) => (handle.exists(LOCK) ? handle.openFile(LOCK, 'read') : handle.openFile(LOCK, 'append')));
    } catch {
      return false;
    }
    // Held, or taken after its holder had moved the directory away: not ours to remove.
    if (!native().tryLock(fd) || !this.#stillInPlace()) {
      fs.closeSync(fd);
      return false;
    }
    this.#ownerLockFd = fd;
    return true;
  }

  /**
   * Removes what writes killed half way left: dot-named temporaries (writeAtomic's and the
   * monitor's) older than a write can take. A live write's temporary lasts microseconds.
   */
  removeStaleTemporaries(now = Date.now()): void {
    this.#withDirectory('open the state directory', (handle) => {
      for (const name of fs.readdirSync(handle.at(''))) {
        if (!name.startsWith(TEMPORARY_PREFIX) || name === UNPUBLISHED_LOCK) continue;
        try {
          if (now - fs.lstatSync(handle.at(name)).mtimeMs > ABANDONED_TEMPORARY_MS) handle.unlink(name);
        } catch {
          // removed meanwhile
        }
      }
    });
  }

  readState(): StateRecord {
    return this.#checkState(this.#readJson<StateRecord>(STATE));
  }

  /** readState() without blocking the event loop (list() reads many). */
  async readStateAsync(): Promise<StateRecord> {
    return this.#checkState(await this.#readJsonAsync<StateRecord>(STATE));
  }

  async readRunAsync(): Promise<RunRecord | undefined> {
    return this.#readJsonAsync<RunRecord>(RUN);
  }

  async #readJsonAsync<T>(name: string): Promise<T | undefined> {
    let text: string | undefined;
    try {
      text = await readTextAsync(this.dir, name);
    } catch (error) {
      throw new ContainerStateFileError(this.id, `${name}: ${(error as Error).message}`);
    }
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ContainerStateFileError(this.id, `${name}: ${(error as Error).message}`);
    }
  }

  #checkState(state: StateRecord | undefined): StateRecord {
    if (!state) throw new ContainerStateFileError(this.id, `${STATE} is missing`);
    if (state.version !== 1 || state.id !== this.id || typeof state.created !== 'string' || !Array.isArray(state.command)) {
      throw new ContainerStateFileError(this.id, `${STATE} is not a ts-container state record`);
    }
    return state;
  }

  writeState(state: StateRecord): void {
    this.#whileWriting(STATE, (handle) => handle.writeAtomic(STATE, json(state)));
    this.#recordedLayer = { dataRoot: state.dataRoot, created: state.created };
  }

  /**
   * The layer part of the state record as this object last wrote it. Neither changes over a
   * container's life (every later write carries them on), and the directory is this one
   * (#identity): its removal uses them rather than read the record back.
   */
  #recordedLayer: RecordedLayer | undefined;

  readConfig(): SavedConfig {
    const config = this.#readJson<SavedConfig>(CONFIG);
    if (!config || typeof config.options !== 'object' || !Array.isArray(config.argv)) {
      throw new ContainerStateFileError(this.id, `${CONFIG} is missing or not a saved configuration`);
    }
    return config;
  }

  readRun(): RunRecord | undefined {
    return this.#readJson<RunRecord>(RUN);
  }

  writeRun(run: RunRecord): void {
    this.#whileWriting(RUN, (handle) => handle.writeAtomic(RUN, JSON.stringify(run) + '\n'));
  }

  /** health.json (lib/health/health-state.ts): as parsed, undefined when no check has run. */
  readHealth(): unknown {
    return this.#readJson<unknown>(STATE_FILES.health);
  }

  async readHealthAsync(): Promise<unknown> {
    return this.#readJsonAsync<unknown>(STATE_FILES.health);
  }

  writeHealth(record: object): void {
    this.#whileWriting(STATE_FILES.health, (handle) => handle.writeAtomic(STATE_FILES.health, JSON.stringify(record) + '\n'));
  }

  /**
   * Runs a write while holding the writers' lock, a flock of the directory itself (through
   * the fd this write opened, so the lock goes when it is closed), which the monitor takes too
   * (native/monitor/run_record.cc): writers of the same record go one at a time.
   */
  #whileWriting(name: string, write: (handle: DirectoryHandle) => void): void {
    this.#withDirectory(`write ${name}`, (handle) => {
      native().lock(handle.fd);
      stateStep(`write ${name}`, handle.display(name), () => write(handle));
    });
  }

  /** A file's JSON; undefined when it does not exist. A link or bad JSON is an unreadable state file. */
  #readJson<T>(name: string): T | undefined {
    let text: string | undefined;
    try {
      text = this.#withDirectory(`read ${name}`, (handle) => stateStep(`read ${name}`, handle.display(name), () => handle.readText(name)));
    } catch (error) {
      if (error instanceof ContainerStateIOError && error.code === 'ELOOP') {
        throw new ContainerStateFileError(this.id, `${name} is a symbolic link, which is never followed`);
      }
      throw error;
    }
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ContainerStateFileError(this.id, `${name}: ${(error as Error).message}`);
    }
  }

  get fifoPath(): string {
    return path.join(this.dir, FIFO);
  }

  get logPath(): string {
    return path.join(this.dir, STATE_FILES.log);
  }

  /** Whether the start FIFO is still there: the container waits for start(). */
  hasStartFifo(): boolean {
    try {
      return this.#withDirectory('open the state directory', (handle) => handle.exists(FIFO));
    } catch {
      return false;
    }
  }

  removeStartFifo(): void {
    this.#withDirectory(`remove ${FIFO}`, (handle) => stateStep(`remove ${FIFO}`, handle.display(FIFO), () => handle.unlink(FIFO)));
  }

  /** Records when start() let the program go (ms since the epoch). */
  markStarted(at: number): void {
    this.#withDirectory(`write ${STARTED}`, (handle) => stateStep(`write ${STARTED}`, handle.display(STARTED), () => handle.writeAtomic(STARTED, `${at}\n`)));
  }

  /** When start() let the program go (ms since the epoch), if it has. */
  startedAt(): number | undefined {
    try {
      const value = Number(this.#withDirectory(`read ${STARTED}`, (handle) => handle.readText(STARTED)));
      return Number.isFinite(value) && value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** startedAt() without blocking the event loop. */
  async startedAtAsync(): Promise<number | undefined> {
    try {
      const value = Number(await readTextAsync(this.dir, STARTED));
      return Number.isFinite(value) && value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Asks the monitor not to restart the container after its next exit. */
  requestStop(): void {
    try {
      this.#withDirectory(`write ${STOP_REQUESTED}`, (handle) => handle.writeAtomic(STOP_REQUESTED, `${Date.now()}\n`));
    } catch {
      // the directory is gone (nothing to restart) or cannot be written (destroy reports that)
    }
  }

  /**
   * Removes the directory this object stands for and everything in it, links never followed.
   * The name is freed first, by renaming the directory away (still under its lock when this
   * process owns it), and only then are its files removed: a maker of the same id meanwhile
   * gets the name at once, and its new directory is never touched. Another process may own the
   * container still (destroy() from another process); a directory found under the name that
   * is not this one (the container was removed and made again) is left alone. With `deferred`,
   * it returns once the name (and its writable layer's) is free and this process's lock let
   * go; the files go a moment later (deferred-removal.ts).
   */
  remove(deferred = false): void {
    try {
      if (!this.#stillInPlace()) return;
      // A layer this process made goes first, while this directory still holds the id.
      const layerGone = this.#removeLayerMadeHere();
      const away = path.join(this.root, `${REMOVING_PREFIX}${this.id}.${uniqueSuffix()}`);
      try {
        fs.renameSync(this.dir, away);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new ContainerStateIOError('move the state directory away', this.dir, error as NodeJS.ErrnoException);
      }
      // Replaced between the check and the rename (removed and made again by others): put it back.
      if (identityOf(fs.lstatSync(away)) !== this.#identity) {
        fs.renameSync(away, this.dir);
        return;
      }
      pauseForTest('directory-removing');
      // The layer's name is freed now too (its files go in the background: writable-layer.ts).
      if (!layerGone) removeRecordedLayer(away, this.root, this.id, this.#recordedLayer);
      this.releaseOwnership();
      const removeFiles = (): void => stateStep('remove the state directory', away, () => removeTree(away));
      if (!deferred) return removeFiles();
      deferRemoval({
        // Under the checked state root, at a name only this process knew: removed in one piece
        // of work off the event loop, each link itself, never what it points to.
        inBackground: () => native().removeTree(away),
        now: removeFiles,
      });
    } finally {
      this.releaseOwnership();
    }
  }

  /**
   * The writable layer, if this process made it (writable-layer.ts), with no record read back.
   * True when there is none left to remove; false leaves it to removeRecordedLayer.
   */
  #removeLayerMadeHere(): boolean {
    const layer = this.#recordedLayer;
    if (!layer) return false;
    if (layer.dataRoot === undefined) return true;
    try {
      return removeLayerMadeHere(layer.dataRoot, this.id);
    } catch {
      return false;
    }
  }
}

/**
 * Runs makeStateDirectory: its errno error becomes a ContainerStateIOError for the step it
 * names, on the file in `making` it names (the directory itself when none).
 */
function madeStep<T>(making: string, make: () => T): T {
  try {
    return asFsError('open', make);
  } catch (error) {
    const cause = error as NodeJS.ErrnoException & { step?: string; file?: string };
    if (typeof cause?.code !== 'string' || typeof cause.errno !== 'number' || typeof cause.step !== 'string') throw error;
    throw new ContainerStateIOError(cause.step, cause.file ? path.join(making, cause.file) : making, cause);
  }
}

/** The next of `homes`, open; null when it cannot be opened (the directory is then made in the root). */
function openHome(homes: SpreadHomes): DirectoryHandle | null {
  try {
    return DirectoryHandle.open(homes.nextHome());
  } catch {
    return null;
  }
}
