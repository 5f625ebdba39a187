/**
 * One container's state directory, <state root>/<id>:
 * - lock         flocked by the container's owner while it lives: the Node process that made
 *                it, or the monitor of a detached container. No holder means no owner.
 * - write.lock   flocked for the moment of each write of state.json or run.json
 * - state.json   what the maker records: when, how, which cgroups, the first pid (StateRecord)
 * - config.json  the options and command it was made with, to recreate it (SavedConfig)
 * - run.json     the current or last run: pid, start and exit (RunRecord); written by the
 *                owner only (the monitor of a detached container, cpp/run_record.cc)
 * - exec.fifo    while created: start() opens it, and the waiting program goes on
 * - started      the time start() let the program go (spawn() records it in state.json)
 * - stop-requested  stop(), kill() or delete asked the container to end: no restart
 * - container.log   a detached container's output, as frames (see log-file.ts)
 *
 * A directory appears whole: it is made under a temporary name, with its lock already held
 * and its files written, then renamed into place. A rename onto an existing (never empty)
 * directory fails, so of two processes making the same id, exactly one wins.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ContainerOptions, ProcessOptions } from '../options/types';
import type { RestartPolicy } from './types';
import type { CgroupRecord } from '../cgroups/container-cgroup';
import { native } from '../native/binding';
import { readJsonFile, writeFileAtomic } from './atomic-file';
import { ContainerExistsError, ContainerStateFileError } from '../errors/errors';

export interface StateRecord {
  version: 1;
  id: string;
  /** ISO time of create. */
  created: string;
  /** How far the maker got: a 'creating' container whose maker is gone was never made. */
  phase: 'creating' | 'created' | 'started';
  detached: boolean;
  restart: RestartPolicy;
  annotations: Record<string, string>;
  command: string[];
  rootfs: string | null;
  cgroup: CgroupRecord | null;
  /** When spawn() started the program (ms since the epoch); create() leaves it to start(). */
  startedAt?: number;
  /** The first process, once cloned. */
  pid: number;
  startTime: string;
  /** The Node process that made it, and its start time. */
  makerPid: number;
  makerStartTime: string;
}

/** run.json: the current or last run. */
export interface RunRecord {
  pid: number;
  startTime: string;
  startedAt: number | null;
  finishedAt: number | null;
  exited: boolean;
  exitCode: number | null;
  signal: number | null;
  restartCount: number;
  monitorPid: number;
  monitorStartTime: string;
  error?: string;
}

/** The JSON-safe part of what a container was made with: enough to make it again. */
export interface SavedConfig {
  options: ContainerOptions;
  argv: string[];
  process: Pick<ProcessOptions, 'env' | 'cwd' | 'user'>;
}

const STATE = 'state.json';
const CONFIG = 'config.json';
const RUN = 'run.json';
const LOCK = 'lock';
const WRITE_LOCK = 'write.lock';
/** Temporary directories of makes in progress start with this (and are never listed). */
export const MAKING_PREFIX = '.making-';

export class ContainerDirectory {
  readonly root: string;
  readonly id: string;
  readonly dir: string;
  /** The flocked lock file's fd while this process owns the container; else -1. */
  #ownerLockFd = -1;

  constructor(root: string, id: string) {
    this.root = root;
    this.id = id;
    this.dir = path.join(root, id);
  }

  /**
   * Makes the directory, owned (locked) by this process. `onExisting` may clear away an
   * abandoned directory of the same id and return true to try once more.
   */
  static create(root: string, id: string, state: StateRecord, config: SavedConfig, onExisting: (existing: ContainerDirectory) => boolean): ContainerDirectory {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    const making = path.join(root, `${MAKING_PREFIX}${id}.${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(making, { mode: 0o700 });
    const directory = new ContainerDirectory(root, id);
    let lockFd = -1;
    try {
      lockFd = fs.openSync(path.join(making, LOCK), 'w', 0o600);
      native().tryLock(lockFd);
      // Plain writes: nobody sees the directory before its rename.
      fs.writeFileSync(path.join(making, STATE), JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
      fs.writeFileSync(path.join(making, CONFIG), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
      for (let attempt = 0; ; attempt++) {
        try {
          fs.renameSync(making, directory.dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 0 || !onExisting(directory)) {
            throw code === 'ENOTEMPTY' || code === 'EEXIST' ? new ContainerExistsError(id, root) : error;
          }
        }
      }
    } catch (error) {
      if (lockFd >= 0) fs.closeSync(lockFd);
      fs.rmSync(making, { recursive: true, force: true });
      throw error;
    }
    directory.#ownerLockFd = lockFd;
    return directory;
  }

  /** The ids of every container directory in the root (makes in progress excluded). */
  static ids(root: string): string[] {
    try {
      return fs.readdirSync(root).filter((name) => !name.startsWith('.')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** ids() without blocking the event loop. */
  static async idsAsync(root: string): Promise<string[]> {
    try {
      return (await fs.promises.readdir(root)).filter((name) => !name.startsWith('.')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  get ownerLockFd(): number {
    return this.#ownerLockFd;
  }

  /** Closes this process's hold on the lock (a monitor holds its own copy, or the container is gone). */
  releaseOwnership(): void {
    if (this.#ownerLockFd >= 0) fs.closeSync(this.#ownerLockFd);
    this.#ownerLockFd = -1;
  }

  /** Whether some live process (this one included) holds the container's lock. */
  hasOwner(): boolean {
    if (this.#ownerLockFd >= 0) return true;
    let fd: number;
    try {
      fd = fs.openSync(path.join(this.dir, LOCK), 'r');
    } catch {
      return false;
    }
    try {
      return !native().tryLock(fd);
    } finally {
      fs.closeSync(fd);
    }
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
    let text: string;
    try {
      text = await fs.promises.readFile(path.join(this.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ContainerStateFileError(this.id, `${name}: ${(error as Error).message}`);
    }
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
    this.#whileWriting(() => writeFileAtomic(path.join(this.dir, STATE), JSON.stringify(state, null, 2) + '\n'));
  }

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
    this.#whileWriting(() => writeFileAtomic(path.join(this.dir, RUN), JSON.stringify(run) + '\n'));
  }

  /**
   * Runs a write while holding the directory's writer lock (write.lock), which the monitor
   * takes too (cpp/run_record.cc): writers of the same record go one at a time.
   */
  #whileWriting(write: () => void): void {
    const fd = fs.openSync(path.join(this.dir, WRITE_LOCK), 'a', 0o600);
    try {
      native().lock(fd);
      write();
    } finally {
      fs.closeSync(fd);
    }
  }

  #readJson<T>(name: string): T | undefined {
    try {
      return readJsonFile<T>(path.join(this.dir, name));
    } catch (error) {
      throw new ContainerStateFileError(this.id, `${name}: ${(error as Error).message}`);
    }
  }

  get fifoPath(): string {
    return path.join(this.dir, 'exec.fifo');
  }

  get logPath(): string {
    return path.join(this.dir, 'container.log');
  }

  get startedPath(): string {
    return path.join(this.dir, 'started');
  }

  /** When start() let the program go (ms since the epoch), if it has. */
  startedAt(): number | undefined {
    try {
      const value = Number(fs.readFileSync(this.startedPath, 'utf8'));
      return Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** startedAt() without blocking the event loop. */
  async startedAtAsync(): Promise<number | undefined> {
    try {
      const value = Number(await fs.promises.readFile(this.startedPath, 'utf8'));
      return Number.isFinite(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Asks the monitor not to restart the container after its next exit. */
  requestStop(): void {
    try {
      fs.writeFileSync(path.join(this.dir, 'stop-requested'), `${Date.now()}\n`);
    } catch {
      // the directory is gone: nothing to restart
    }
  }

  clearStopRequest(): void {
    fs.rmSync(path.join(this.dir, 'stop-requested'), { force: true });
  }

  /** Removes the directory and everything in it. */
  remove(): void {
    this.releaseOwnership();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
