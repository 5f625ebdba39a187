/**
 * The create transaction's undo list: each step that makes something (the state directory,
 * the cgroup, a running process) pushes how to unmake it; a failure unmakes them all, last
 * made first, and the error reported stays the step's own, not one of the cleanup.
 */
export type Undo = () => void | Promise<void>;

export class UndoList {
  readonly #undos: Undo[] = [];

  push(undo: Undo): void {
    this.#undos.push(undo);
  }

  /** The container is made: what the steps made is its own now, kept until destroy(). */
  commit(): void {
    this.#undos.length = 0;
  }

  /**
   * Runs every undo, last first, each one even if another failed. Undos that do not wait
   * run before this returns (a synchronous caller may rely on it), the rest in order after.
   */
  async rollback(): Promise<void> {
    while (this.#undos.length > 0) {
      const undo = this.#undos.pop() as Undo;
      try {
        const pending = undo();
        if (pending) await pending;
      } catch {
        // the step's own error is the one to report
      }
    }
  }
}
