/**
 * Removals that destroy() leaves until after it resolves: the files of a state directory
 * already moved away under a hidden name (the id is free from that rename on). They start a
 * turn of the event loop later and run on libuv's pool (an rmdir on ext4 takes a journal
 * write: not work for the event loop); whatever is queued or still under way when Node exits
 * runs again in its 'exit' event, synchronously (each removal tolerates what is already
 * gone); after kill -9, the state root's sweep removes the hidden directories that are left
 * (sweep.ts), so nothing stays either way.
 */
import { pauseForTest } from './test-hook';

export interface DeferredRemoval {
  /** The removal without blocking the event loop. */
  inBackground(): Promise<void>;
  /** The same, synchronously (Node's exit). */
  now(): void;
}

const pending = new Set<DeferredRemoval>();
let queued: DeferredRemoval[] = [];
let scheduled: NodeJS.Immediate | undefined;

function startQueued(): void {
  scheduled = undefined;
  if (queued.length > 0) pauseForTest('deferred-removal');
  for (const removal of queued.splice(0)) {
    removal.inBackground().then(
      () => pending.delete(removal),
      // the state root's sweep removes what is left
      () => pending.delete(removal),
    );
  }
}

/** Runs `removal` soon, in the background, and at the latest when Node exits. */
export function deferRemoval(removal: DeferredRemoval): void {
  pending.add(removal);
  queued.push(removal);
  scheduled ??= setImmediate(startQueued);
}

/** Runs every removal not finished yet now, synchronously (Node's exit, and tests). */
export function finishDeferredRemovals(): void {
  if (scheduled) clearImmediate(scheduled);
  scheduled = undefined;
  queued = [];
  if (pending.size > 0) pauseForTest('deferred-removal');
  for (const removal of [...pending]) {
    pending.delete(removal);
    try {
      removal.now();
    } catch {
      // the state root's sweep removes what is left
    }
  }
}

process.on('exit', finishDeferredRemovals);
