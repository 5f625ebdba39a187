/**
 * Container.pool: a warm spawn of `true` in a container made ahead, timed from pool.spawn()
 * to wait() resolved, as Container.spawn's row is. Between runs, untimed, the used container
 * is destroyed and the pool refilled, so that neither happens during another runner's turn.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadContainerClass, type ContainerProcessLike } from './container-api';
import { errorText, now, oneLine, withTimeout, type Runner, type RunnerOptions } from './runners';

interface PooledProcessLike extends ContainerProcessLike {
  readonly container: { readonly id: string };
  once(event: 'close', listener: () => void): unknown;
}

interface PoolLike {
  ready(): Promise<number>;
  spawn(argv: string[], opts: { stdio: 'ignore' }): PooledProcessLike;
  close(): Promise<void>;
}

type PoolFactory = (options: { rootfs: string; stateRoot: string; size: number }) => PoolLike;

/** The pool's size: one member is used per run, and the pool is full again before the next. */
const POOL_SIZE = 2;

class ContainerPoolRunner implements Runner {
  readonly key = 'container-pool';
  readonly rows = ['Container.pool spawn (warm)'] as const;
  private pool: PoolLike | null = null;
  private stateRoot: string | null = null;

  constructor(private readonly o: RunnerOptions) {}

  async setup(): Promise<string | null> {
    try {
      const Container = (await loadContainerClass()) as unknown as { pool?: PoolFactory };
      if (typeof Container.pool !== 'function') return 'Container.pool is not in this build';
      this.stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-pool-'));
      this.pool = Container.pool({ rootfs: this.o.rootfs, stateRoot: this.stateRoot, size: POOL_SIZE });
      await this.runOnce();
      return null;
    } catch (err) {
      return oneLine(errorText(err));
    }
  }

  async runOnce(): Promise<bigint[]> {
    const pool = this.pool;
    if (!pool || !this.stateRoot) throw new Error('Container.pool: not set up');
    await withTimeout(pool.ready(), this.o.timeoutMs, 'pool ready()');
    const t0 = now();
    const p = pool.spawn(['/bin/true'], { stdio: 'ignore' });
    const closed = new Promise<void>((resolve) => p.once('close', resolve));
    const st = await withTimeout(p.wait(), this.o.timeoutMs, 'pooled wait()');
    const waited = now();
    if (st.exitCode !== 0) throw new Error(st.signal ? `/bin/true killed by ${st.signal}` : `/bin/true exit code ${st.exitCode}`);
    // Untimed: the container goes (after 'close') and the pool refills within this turn.
    await withTimeout(closed, this.o.timeoutMs, "pooled 'close'");
    await withTimeout(this.destroyed(p.container.id), this.o.timeoutMs, 'pooled container destroyed');
    await withTimeout(pool.ready(), this.o.timeoutMs, 'pool refill');
    return [waited - t0];
  }

  private async destroyed(id: string): Promise<void> {
    const dir = path.join(this.stateRoot as string, id);
    while (fs.existsSync(dir)) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  async cleanup(): Promise<void> {
    try {
      await this.pool?.close();
    } catch {
      // Reported by the run that failed.
    }
    this.pool = null;
    if (this.stateRoot) fs.rmSync(this.stateRoot, { recursive: true, force: true });
    this.stateRoot = null;
  }
}

/** Add to the spawn table's runners in bench/run.ts: `containerPoolRunner(opts)`. */
export function containerPoolRunner(o: RunnerOptions): Runner {
  return new ContainerPoolRunner(o);
}
