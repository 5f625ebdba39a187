/**
 * The state root: the directory holding one directory per container, shared by every
 * process of the same user, so that any of them can list, find and manage containers.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { fail } from '../options/option-error';

/** Set by `--root` in the CLI, or by the environment for every program at once. */
export const STATE_ROOT_ENV = 'TS_CONTAINER_STATE_ROOT';

/**
 * `stateRoot` when given; else $TS_CONTAINER_STATE_ROOT; else /run/ts-container for root and
 * $XDG_RUNTIME_DIR/ts-container (or a per-user directory in the temp dir) for others.
 */
export function resolveStateRoot(stateRoot?: unknown): string {
  if (stateRoot !== undefined) {
    if (typeof stateRoot !== 'string' || stateRoot === '' || stateRoot.includes('\0')) {
      fail('stateRoot', 'expected a directory path');
    }
    return path.resolve(stateRoot);
  }
  const fromEnv = process.env[STATE_ROOT_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  if (process.getuid?.() === 0) return '/run/ts-container';
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir) return path.join(runtimeDir, 'ts-container');
  return path.join(os.tmpdir(), `ts-container-${process.getuid?.() ?? 'user'}`);
}
