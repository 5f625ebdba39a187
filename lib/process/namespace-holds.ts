/**
 * Letting go of the namespace fds Node held for a container (HelperReport.heldNamespaceFds).
 * The last close of a mount namespace unmounts all of it and waits for an RCU grace period:
 * done by the addon's lowest-priority thread (native/addon/background_close.h), never on the
 * event loop, and never ahead of a container being made.
 */
import { native } from '../native/binding';

/** Closes every fd of `held` in the background and empties it. */
export function releaseNamespaceHolds(held: number[]): void {
  if (held.length > 0) native().closeInBackground(held.splice(0));
}
