/**
 * The options of Container.pool() and of pool.spawn(), checked before any member is made:
 * a bad one is a TypeError that names it, as every option error is.
 */
import type { ContainerOptions, ProcessOptions } from '../options/types';
import type { ContainerConfig } from '../options/validate';
import { fail } from '../options/option-error';
import { networkAttachment } from '../options/namespace-sharing';

/** A pool's members are made with these; `size` of them wait at once (default 4). */
export type PoolOptions = Omit<ContainerOptions, 'id'> & { size?: number };

/** What each pool.spawn() may set: the rest was fixed when its container was made. */
export type PoolSpawnOptions = Pick<ProcessOptions, 'env' | 'cwd' | 'stdio' | 'tty' | 'user'>;

export const DEFAULT_POOL_SIZE = 4;
/** More members than this waiting at once is a mistake, not a pool. */
export const MOST_POOL_MEMBERS = 256;

const SPAWN_KEYS = new Set(['env', 'cwd', 'stdio', 'tty', 'user']);

function shown(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/** Splits the pool's own option (size) from the members' container options. */
export function poolOptions(options: PoolOptions | undefined): { size: number; container: ContainerOptions } {
  if (options === undefined) return { size: DEFAULT_POOL_SIZE, container: {} };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('options', `expected an object, got ${shown(options)}`);
  if ('id' in options) fail('id', "each member of a pool is a container of its own, with an id of its own: leave id unset (pool.spawn()'s process.container.id names it)");
  const { size = DEFAULT_POOL_SIZE, ...container } = options;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MOST_POOL_MEMBERS) {
    fail('size', `expected a whole number of members from 1 to ${MOST_POOL_MEMBERS}, got ${shown(size)}`);
  }
  return { size, container };
}

/** What a pool cannot make ahead, from its members' normalized config. */
export function checkPoolConfig(config: ContainerConfig): void {
  if (config.lifecycle.detach) fail('detach', 'a pool member lives and dies with the Node process that made it ahead; spawn a detached container with new Container({ detach: true })');
  if (config.seccomp.notify) {
    fail('seccomp.notify', "a pool member loads its seccomp program after pool.spawn(), and its listener would have no process to go to; use a container of its own");
  }
  if (networkAttachment(config.network) !== null) {
    fail('network', 'a network attachment is made when its container starts (CNI ADD before the program runs), which a pool member made ahead cannot wait for; use network: "none" or a container of its own');
  }
}

/** pool.spawn()'s options: only those a member made ahead can still take. */
export function checkPoolSpawnOptions(options: unknown): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('options', `expected an object, got ${shown(options)}`);
  for (const key of Object.keys(options)) {
    if (!SPAWN_KEYS.has(key)) fail(key, `not an option of pool.spawn() (it takes ${[...SPAWN_KEYS].join(', ')}): set it in Container.pool() or use a container of its own`);
  }
}
