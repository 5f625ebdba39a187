/**
 * Removals that destroy() leaves until after it resolves: the files of a state directory
 * already moved away under a hidden name (the id is free from that rename on). They run a
 * turn of the event loop later, and whatever is still queued when Node exits runs in its
 * 'exit' event, synchronously; after kill -9, the state root's sweep removes the hidden
 * directories that are left (sweep.ts), so nothing stays either way.
 */
import { pauseForTest } from './test-hook';

const queued: (() => void)[] = [];
let scheduled: NodeJS.Immediate | undefined;

function runQueued(): void {
  scheduled = undefined;
  if (queued.length > 0) pauseForTest('deferred-removal');
  while (queued.length > 0) {
    const removal = queued.shift() as () => void;
    try {
      removal();
    } catch {
      // the state root's sweep removes what is left
    }
  }
}

/** Runs `removal` soon, and at the latest when Node exits. */
export function deferRemoval(removal: () => void): void {
  queued.push(removal);
  scheduled ??= setImmediate(runQueued);
}

/** Runs every queued removal now (Node's exit, and tests). */
export function finishDeferredRemovals(): void {
  if (scheduled) clearImmediate(scheduled);
  runQueued();
}

process.on('exit', finishDeferredRemovals);
