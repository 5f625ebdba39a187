/**
 * How much of Node's event loop one container's seccomp notifications may take: at most
 * NOTIFICATIONS_PER_TURN are served per loop turn, over all of the container's listeners
 * (its main process and each exec'd one has its own). Once a turn's budget is spent, its
 * listeners are paused (the notifications wait in the kernel, their processes blocked in
 * their system calls) until the loop's check phase, so timers, I/O and other containers get
 * their turn however hard the container floods.
 */

/** Notifications of one container served per event-loop turn, at most. */
export const NOTIFICATIONS_PER_TURN = 4;

export interface PausableWatcher {
  pause(): void;
  resume(): void;
}

export class NotifyBudget {
  readonly #perTurn: number;
  readonly #watchers = new Set<PausableWatcher>();
  #served = 0;
  #paused = false;
  #turnEnd: NodeJS.Immediate | undefined;

  constructor(perTurn = NOTIFICATIONS_PER_TURN) {
    this.#perTurn = perTurn;
  }

  add(watcher: PausableWatcher): void {
    this.#watchers.add(watcher);
    if (this.#paused) watcher.pause();
  }

  delete(watcher: PausableWatcher): void {
    this.#watchers.delete(watcher);
  }

  /** Counts one notification served in this turn; pauses every listener once the budget is spent. */
  spend(): void {
    this.#served++;
    // setImmediate runs in this turn's check phase, right after the poll phase serving us.
    this.#turnEnd ??= setImmediate(() => this.#newTurn());
    if (this.#served < this.#perTurn || this.#paused) return;
    this.#paused = true;
    for (const watcher of this.#watchers) watcher.pause();
  }

  #newTurn(): void {
    this.#turnEnd = undefined;
    this.#served = 0;
    if (!this.#paused) return;
    this.#paused = false;
    for (const watcher of this.#watchers) watcher.resume();
  }
}
