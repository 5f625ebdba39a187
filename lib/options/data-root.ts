/**
 * The data root: where everything persistent lives (image layers, a container's private
 * writable layer, networks). The option `dataRoot` when given; else $TS_CONTAINER_DATA_ROOT;
 * else /var/lib/ts-container for root and, for others, $XDG_DATA_HOME/ts-container or
 * ~/.local/share/ts-container. Its trust checks are the state root's (verifyStateRoot), run
 * when something is made in it.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { fail } from './option-error';

export const DATA_ROOT_ENV = 'TS_CONTAINER_DATA_ROOT';

export function resolveDataRoot(dataRoot?: unknown): string {
  if (dataRoot !== undefined) {
    if (typeof dataRoot !== 'string' || dataRoot === '' || dataRoot.includes('\0')) fail('dataRoot', 'expected a directory path');
    return path.resolve(dataRoot);
  }
  const fromEnv = process.env[DATA_ROOT_ENV];
  if (fromEnv) return path.resolve(fromEnv);
  if (process.getuid?.() === 0) return '/var/lib/ts-container';
  const dataHome = process.env.XDG_DATA_HOME;
  const base = dataHome && path.isAbsolute(dataHome) ? dataHome : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'ts-container');
}
