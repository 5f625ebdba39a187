/**
 * Letting go of the namespace fds Node held for a container (HelperReport.heldNamespaceFds).
 * The last close of a mount namespace unmounts all of it and waits for an RCU grace period:
 * done on libuv's pool (fs.close), never on the event loop.
 */
import * as fs from 'node:fs';

/** Closes every fd of `held` in the background and empties it. */
export function releaseNamespaceHolds(held: number[]): void {
  for (const fd of held.splice(0)) fs.close(fd, () => undefined);
}
