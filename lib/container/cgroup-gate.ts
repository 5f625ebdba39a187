/**
 * Node's end of a worker's cgroup gate (native/helper/cgroup_gate.h). The worker clones the
 * container's process while Node makes its cgroups and writable layer, and waits at the gate
 * before the process mounts its root: one byte opens it; its end of file (Node's end closed
 * unopened) makes the worker end what it cloned and report.
 *
 * A gate still shut when Node exits is closed by Node's 'exit' handler (exit-cleanup.ts).
 * Otherwise its worker, past its plan, waits at the gate for good, the pool thread that reads
 * its report waits for the worker, and Node's exit waits for that thread: a process.exit()
 * in the moment between a spawn's plan and its cgroups never returned.
 */
import * as fs from 'node:fs';
import { native } from '../native/binding';

/** Node's ends of the gates not yet opened or closed. */
const shut = new Set<number>();

export class CgroupGate {
  readonly #nodeEnd: number;
  /** The worker's end, for the worker's request; closed here once the worker has its copy. */
  #workerEnd: number;

  private constructor([workerEnd, nodeEnd]: [number, number]) {
    this.#workerEnd = workerEnd;
    this.#nodeEnd = nodeEnd;
    shut.add(nodeEnd);
  }

  static make(): CgroupGate {
    return new CgroupGate(native().createPipe());
  }

  get workerEnd(): number {
    return this.#workerEnd;
  }

  /** Once the worker holds its copy (or will never get one). */
  closeWorkerEnd(): void {
    if (this.#workerEnd < 0) return;
    native().closeFd(this.#workerEnd);
    this.#workerEnd = -1;
  }

  /** The cgroups and the writable layer exist: the worker lets its process mount the root and join them. */
  open(): void {
    if (!shut.delete(this.#nodeEnd)) return;
    try {
      fs.writeSync(this.#nodeEnd, Buffer.of(1));
    } catch {
      // The helper is gone (EPIPE): its report says why.
    } finally {
      native().closeFd(this.#nodeEnd);
    }
  }

  /** They never will: the worker ends what it cloned and reports. */
  close(): void {
    if (shut.delete(this.#nodeEnd)) native().closeFd(this.#nodeEnd);
  }
}

/** At Node's exit: every worker still at its gate ends and reports. */
export function closeShutCgroupGates(): void {
  for (const fd of shut) native().closeFd(fd);
  shut.clear();
}
