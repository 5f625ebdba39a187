/**
 * The data root: one directory for everything ts-container keeps across boots (images, the
 * containers' writable layers and their records, registries.json, certs.d). It is checked as
 * the state root is: nobody but its owner (and root) may change it or a directory above it,
 * since whoever can plant a layer or a record there can choose what a container runs.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { fail } from '../options/option-error';
import { UntrustedStateRootError } from '../errors/errors';
import { verifyStateRoot } from '../state/state-root';

/** Set for every program at once, as $TS_CONTAINER_STATE_ROOT is for the state root. */
export const DATA_ROOT_ENV = 'TS_CONTAINER_DATA_ROOT';

/**
 * `dataRoot` when given; else $TS_CONTAINER_DATA_ROOT; else /var/lib/ts-container for root and,
 * for others, $XDG_DATA_HOME/ts-container or ~/.local/share/ts-container.
 */
export function resolveDataRoot(dataRoot?: unknown, option = 'dataRoot'): string {
  if (dataRoot !== undefined) {
    if (typeof dataRoot !== 'string' || dataRoot === '' || dataRoot.includes('\0')) {
      fail(option, 'expected a directory path');
    }
    return path.resolve(dataRoot);
  }
  const fromEnv = process.env[DATA_ROOT_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  if (process.getuid?.() === 0) return '/var/lib/ts-container';
  const dataHome = process.env.XDG_DATA_HOME;
  const base = dataHome && path.isAbsolute(dataHome) ? dataHome : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'ts-container');
}

/** The data root (or a directory above it) could be changed by another user: refused, never trusted. */
export class UntrustedDataRootError extends Error {
  readonly code = 'EUNTRUSTEDDATAROOT';
  readonly dataRoot: string;
  /** The directory (or link) that failed the check. */
  readonly path: string;
  constructor(dataRoot: string, cause: UntrustedStateRootError) {
    // The check's own words, said of the data root.
    const problem = cause.message.slice(cause.message.indexOf(' is not safe: ') + ' is not safe: '.length);
    super(`data root ${dataRoot} is not safe: ${problem}`, { cause });
    this.name = 'UntrustedDataRootError';
    this.dataRoot = dataRoot;
    this.path = cause.path;
  }
}

/**
 * Checks the data root as verifyStateRoot() checks a state root (the same ownership and mode
 * rules, links followed) and makes it when `create` is set. False when it does not exist.
 */
export function verifyDataRoot(dataRoot: string, create: boolean): boolean {
  try {
    return verifyStateRoot(dataRoot, create);
  } catch (error) {
    if (error instanceof UntrustedStateRootError) throw new UntrustedDataRootError(dataRoot, error);
    throw error;
  }
}
