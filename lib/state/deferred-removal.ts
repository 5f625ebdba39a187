/**
 * Removals that destroy() leaves until after it resolves: the files of a state directory
 * already moved away under a hidden name (the id is free from that rename on). They start a
 * turn of the event loop later, once no spawn is making a container (quiet-moment.ts), and run
 * on libuv's pool (an rmdir on ext4 takes a journal
 * write: not work for the event loop); whatever is queued or still under way when Node exits
 * runs again in its 'exit' event, synchronously (each removal tolerates what is already
 * gone); after kill -9, the state root's sweep removes the hidden directories that are left
 * (sweep.ts), so nothing stays either way.
 */
import { pauseForTest } from './test-hook';
import { quietMoment } from './quiet-moment';

export interface DeferredRemoval {
  /** The removal without blocking the event loop. */
  inBackground(): Promise<void>;
  /** The same, synchronously (Node's exit). */
  now(): void;
}

const pending = new Set<DeferredRemoval>();
let queued: DeferredRemoval[] = [];
/** A start of the queued removals is awaited (quiet-moment.ts). */
let scheduled = false;

function startQueued(): void {
  if (!scheduled) return;
  scheduled = false;
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
  if (scheduled) return;
  scheduled = true;
  void quietMoment().then(startQueued);
}

/** Runs every removal not finished yet now, synchronously (Node's exit, and tests). */
export function finishDeferredRemovals(): void {
  scheduled = false;
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
