/**
 * Work done once per process and root directory (a sweep of what crashed processes left):
 * later calls get the first call's promise, which never rejects.
 */
export class OncePerRoot {
  readonly #started = new Map<string, Promise<void>>();
  readonly #work: (root: string) => Promise<void>;

  constructor(work: (root: string) => Promise<void>) {
    this.#work = work;
  }

  run(root: string): Promise<void> {
    let pending = this.#started.get(root);
    if (!pending) {
      pending = this.#work(root).catch(() => undefined);
      this.#started.set(root, pending);
    }
    return pending;
  }

  /** For tests: forget which roots were done. */
  reset(): void {
    this.#started.clear();
  }
}
