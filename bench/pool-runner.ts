/**
 * The warm pool's row: `pool.spawn(['/bin/true'])` of a container made ahead, to wait()
 * resolved, against child_process.spawn in the same rounds (target: at most 1.2x at the
 * median). The API is issue 14's: `Container.pool({ ...options, size })`, `pool.spawn(argv,
 * opts)` returning a ContainerProcess whose container the pool destroys once its program
 * exits, and `await pool.close()`. A lib/ without Container.pool gives the row
 * "unavailable: Container.pool not built".
 */
import { loadContainerClass, type ContainerCreateOptions, type ContainerProcessLike } from './container-api';
import { errorText, now, oneLine, withTimeout, type Runner, type RunnerOptions } from './runners';

/** Containers the pool keeps made ahead: more than one round of the bench uses. */
const POOL_SIZE = 4;

interface PoolLike {
  spawn(argv: string[], opts?: { stdio: 'ignore' }): ContainerProcessLike;
  close(): Promise<void>;
}

type PoolFactory = (options: ContainerCreateOptions & { size: number }) => PoolLike;

export const POOL_ROW = 'Container pool.spawn (warm)';

class ContainerPoolRunner implements Runner {
  readonly key = 'container-pool';
  readonly rows = [POOL_ROW] as const;
  private pool: PoolLike | null = null;

  constructor(private readonly o: RunnerOptions) {}

  async setup(): Promise<string | null> {
    let factory: PoolFactory | undefined;
    try {
      const Container = await loadContainerClass();
      const pool = (Container as unknown as { pool?: PoolFactory }).pool;
      factory = typeof pool === 'function' ? pool.bind(Container) : undefined;
    } catch (err) {
      return oneLine(errorText(err));
    }
    if (!factory) return 'Container.pool not built';
    try {
      this.pool = factory({ rootfs: this.o.rootfs, size: POOL_SIZE });
      await this.runOnce();
      return null;
    } catch (err) {
      return oneLine(errorText(err));
    }
  }

  async runOnce(): Promise<bigint[]> {
    if (!this.pool) throw new Error('Container pool: not set up');
    const t0 = now();
    const st = await withTimeout(this.pool.spawn(['/bin/true'], { stdio: 'ignore' }).wait(), this.o.timeoutMs, 'pool.spawn() wait()');
    const waited = now();
    if (st.exitCode !== 0) throw new Error(st.signal ? `/bin/true killed by ${st.signal}` : `/bin/true exit code ${st.exitCode}`);
    return [waited - t0];
  }

  async cleanup(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await withTimeout(pool.close(), this.o.timeoutMs, 'pool.close()').catch(() => undefined);
  }
}

export function containerPoolRunner(o: RunnerOptions): Runner {
  return new ContainerPoolRunner(o);
}
