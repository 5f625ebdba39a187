/**
 * Container.pool(): containers made ahead, so that a spawn only gives one its program. Each
 * member is a fresh container (pool-member.ts) used by one pool.spawn() and never again: its
 * isolation is that of a cold container. The pool refills in the background, one member at a
 * time, and a spawn that finds it empty takes the cold path (new Container().spawn()).
 */
import type { StdioOption } from '../options/types';
import type { ContainerProcess } from '../process/container-process';
import type { StderrOf, StdinOf, StdoutOf, TtyOption } from '../process/stdio-types';
import { ContainerStateError } from '../errors/errors';
import { Container, contextOf } from './container';
import { PoolMember, type PooledProcess } from './pool-member';
import { checkPoolConfig, checkPoolSpawnOptions, poolOptions, type PoolOptions, type PoolSpawnOptions } from './pool-options';

export type { PooledProcess } from './pool-member';
export type { PoolOptions, PoolSpawnOptions } from './pool-options';

/** How long a spawned program may run before the pool refills anyway (see #refillAfter). */
export const REFILL_DELAY_MS = 20;

export class ContainerPool {
  /** How many members the pool keeps waiting. */
  readonly size: number;
  readonly #options: PoolOptions;
  readonly #waiting: PoolMember[] = [];
  #filling: Promise<void> | undefined;
  #closed = false;
  /** Why the last member could not be made; the next spawn tries again. */
  #failure: Error | undefined;
  #warned = false;

  constructor(options?: PoolOptions) {
    const { size, container } = poolOptions(options);
    // Every option is checked now, as new Container() checks them: not in a background refill.
    checkPoolConfig(contextOf(new Container(container)).config);
    this.size = size;
    this.#options = container;
    this.#fill();
  }

  /** Members waiting now. */
  get available(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves once `size` members wait, with how many do (fewer when the pool closed meanwhile).
   * Rejects with the error of a member that could not be made when none waits.
   */
  async ready(): Promise<number> {
    this.#fill();
    while (this.#filling) await this.#filling;
    if (this.#waiting.length === 0 && this.#failure) throw this.#failure;
    return this.#waiting.length;
  }

  /**
   * Runs argv in a fresh container: one made ahead when the pool has one, else a new one.
   * The process's `container` is that container, destroyed once the program has exited and
   * its output is read ('close'). Options are argv's env, cwd, stdio, tty and user; the rest
   * was the pool's.
   */
  spawn<const S extends StdioOption | undefined = undefined, const T extends TtyOption = undefined>(
    argv: readonly string[],
    options?: PoolSpawnOptions & { stdio?: S; tty?: T },
  ): PooledProcess<ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>>> {
    if (this.#closed) throw new ContainerStateError('container pool: spawn() after close()');
    checkPoolSpawnOptions(options);
    const member = this.#waiting.shift();
    let spawned: PooledProcess;
    try {
      spawned = member ? member.spawn(argv, options) : this.#spawnCold(argv, options);
    } catch (error) {
      // Bad arguments: the member was not touched and serves the next spawn.
      if (member) this.#waiting.unshift(member);
      throw error;
    }
    this.#refillAfter(spawned);
    return spawned as PooledProcess<ContainerProcess<StdinOf<S, T>, StdoutOf<S, T>, StderrOf<S, T>>>;
  }

  /** Destroys the members that wait; containers already spawned run on until their program ends. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#filling) await this.#filling;
    await Promise.all(this.#waiting.splice(0).map((member) => member.discard()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #spawnCold(argv: readonly string[], options: PoolSpawnOptions | undefined): PooledProcess {
    const container = new Container(this.#options);
    const main = container.spawn(argv, options);
    const destroy = (): void => void container.destroy().catch((error: Error) => process.emitWarning(`container ${container.id}: ${error.message}`));
    main.once('close', destroy);
    main.once('spawn-failed', destroy);
    Object.defineProperty(main, 'container', { value: container, enumerable: true });
    return main as PooledProcess;
  }

  /**
   * Making a member takes turns of the event loop (state files, cgroups): done while the
   * spawned program starts or ends, it would delay seeing it start, exit and close. So the
   * pool refills once the program has closed (its wait() resolved: the refill starts on the
   * turn after, behind what the caller does then), or has run for REFILL_DELAY_MS, whichever
   * comes first.
   */
  #refillAfter(spawned: PooledProcess): void {
    let timer: NodeJS.Timeout | undefined;
    const refill = (): void => {
      clearTimeout(timer);
      spawned.off('close', later);
      spawned.off('spawn-failed', later);
      this.#fill();
    };
    const later = (): void => void setImmediate(refill);
    spawned.once('close', later);
    spawned.once('spawn-failed', later);
    timer = setTimeout(refill, REFILL_DELAY_MS);
    timer.unref();
  }

  /** Makes members, one at a time, until `size` wait; a failure stops it until the next spawn. */
  #fill(): void {
    if (this.#filling || this.#closed || this.#waiting.length >= this.size) return;
    this.#failure = undefined;
    this.#filling = (async () => {
      while (!this.#closed && this.#waiting.length < this.size) {
        let member: PoolMember;
        try {
          member = await PoolMember.make(this.#options, (dead) => this.#lost(dead));
        } catch (error) {
          this.#failure = error as Error;
          // Once per pool: each spawn tries again (and a cold spawn reports the same error).
          if (!this.#warned) process.emitWarning(`container pool: a member could not be made: ${(error as Error).message}`);
          this.#warned = true;
          return;
        }
        if (this.#closed) {
          await member.discard();
          return;
        }
        this.#waiting.push(member);
      }
    })().finally(() => {
      this.#filling = undefined;
    });
  }

  /** A member died while it waited (killed, out of memory): it goes, and another is made. */
  #lost(member: PoolMember): void {
    const index = this.#waiting.indexOf(member);
    if (index < 0) return;
    this.#waiting.splice(index, 1);
    void member.discard().catch(() => undefined);
    this.#fill();
  }
}
