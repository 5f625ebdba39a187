/**
 * One Container handle's view of its health: the checks it runs itself (a container that is not
 * detached, made by this handle), or health.json as another runner writes it (a detached
 * container's monitor, or the process that made the container). `'health'` events come from
 * the runner directly, or, while someone listens, from watching the file.
 */
import type { ContainerContext } from '../container/context';
import type { ContainerProcess } from '../process/container-process';
import { HealthRunner } from './health-runner';
import { healthOf, type ContainerHealth, type HealthStatus } from './health-state';
import { recordedHealth } from './health-file';

/**
 * How often a watched health.json is read (a check's own interval when that is shorter): a
 * status that lasted less may go unseen by the events, never by health().
 */
const WATCH_MS = 200;

export class ContainerHealthSource {
  readonly #context: ContainerContext;
  readonly #emit: (health: ContainerHealth) => void;
  #runner: HealthRunner | undefined;
  #watchTimer: NodeJS.Timeout | undefined;
  #watchedStatus: HealthStatus | undefined;

  constructor(context: ContainerContext, emit: (health: ContainerHealth) => void) {
    this.#context = context;
    this.#emit = emit;
  }

  get #configured(): boolean {
    return this.#context.config.healthcheck !== null;
  }

  /**
   * The main process of a container this handle made: its checks start once it runs (at once
   * for spawn(), at start() for create()) and stop when it exits. A detached one's monitor runs them.
   */
  follow(main: ContainerProcess, waitsForStart: boolean): void {
    const check = this.#context.config.healthcheck;
    if (!check || this.#context.detach) return;
    const runner = new HealthRunner(this.#context, check, (record) => this.#emit(healthOf(record, true)));
    this.#runner = runner;
    // Its own checks say each change: a watch begun before would say them twice.
    this.watch(false);
    if (!waitsForStart) main.once('spawn', () => runner.begin());
    main.once('exit', () => runner.end());
    main.once('spawn-failed', () => runner.end());
  }

  /** start() let a created container's program run. */
  started(): void {
    this.#runner?.begin();
  }

  /** Destroyed: no more checks, no more watching. */
  end(): void {
    this.#runner?.end();
    this.watch(false);
  }

  async health(): Promise<ContainerHealth> {
    if (!this.#configured) return healthOf(undefined, false);
    if (this.#runner) return healthOf(this.#runner.record, true);
    const directory = this.#context.directory;
    return (directory && (await recordedHealth(directory))) ?? healthOf(undefined, true);
  }

  /** Follows health.json for 'health' listeners when the checks run elsewhere. */
  watch(on: boolean): void {
    if (!on || this.#runner || !this.#configured) {
      if (this.#watchTimer) clearInterval(this.#watchTimer);
      this.#watchTimer = undefined;
      return;
    }
    if (this.#watchTimer) return;
    const every = Math.min(WATCH_MS, this.#context.config.healthcheck?.interval ?? WATCH_MS);
    let reading = false;
    this.#watchTimer = setInterval(() => {
      if (reading) return;
      reading = true;
      void this.health().then((health) => {
        reading = false;
        // The status found when watching begins is said too: the listener may have missed it.
        if (health.status === this.#watchedStatus) return;
        this.#watchedStatus = health.status;
        this.#emit(health);
      });
    }, every);
    this.#watchTimer.unref();
  }
}
