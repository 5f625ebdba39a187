/**
 * The parts of ts-container's API the bench uses, typed here, and the one place that loads
 * them. lib/ is imported at run time rather than statically so that a lib/ that does not
 * load (mid-edit, unbuilt addon) makes its rows "unavailable: <reason>" instead of stopping
 * the whole bench, and the peers' rows are still measured.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ExitStatusLike {
  exitCode: number | null;
  signal: string | null;
}

export interface ContainerProcessLike {
  /** Resolves once the process runs (rejects as spawn fails). */
  readonly started: Promise<void>;
  wait(): Promise<ExitStatusLike>;
}

export interface ContainerLike {
  readonly id: string;
  spawn(argv: string[], opts?: { stdio: 'ignore' }): ContainerProcessLike;
  exec(argv: string[], opts: { stdio: 'ignore' }): ContainerProcessLike;
  destroy(): Promise<void>;
}

export interface ContainerCreateOptions {
  rootfs: string;
  resources?: { memory?: string; pids?: number; cpus?: number };
  seccomp?: 'unconfined';
  detach?: boolean;
  stateRoot?: string;
  cgroupParent?: string;
  rootfsOverlay?: boolean;
  network?: 'none' | 'host';
}

export interface ListEntryLike {
  id: string;
  status: string;
}

export interface ContainerClass {
  new (opts: ContainerCreateOptions): ContainerLike;
  get(id: string, opts?: { stateRoot?: string }): Promise<ContainerLike>;
  list(opts?: { stateRoot?: string }): Promise<ListEntryLike[]>;
}

/** Imports lib/ and returns its Container class; throws an Error whose message is the reason. */
export async function loadContainerClass(): Promise<ContainerClass> {
  const libDir = path.resolve(__dirname, '..', 'lib');
  let entry: string;
  try {
    // The ESM loader does not import directories: find lib/index.* first (tsx resolves .ts).
    entry = require.resolve(libDir);
  } catch {
    throw new Error(`${path.relative(process.cwd(), libDir) || libDir}/index.ts not found`);
  }
  let mod: { Container?: unknown; default?: { Container?: unknown } };
  try {
    mod = (await import(pathToFileURL(entry).href)) as typeof mod;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot load ${path.relative(process.cwd(), entry)}: ${text}`);
  }
  const ctor = mod.Container ?? mod.default?.Container;
  if (typeof ctor !== 'function') throw new Error(`${path.relative(process.cwd(), entry)} does not export Container`);
  return ctor as ContainerClass;
}
