/**
 * Letting go of the namespace fds Node held for a container (HelperReport.heldNamespaceFds).
 * The last close of a mount namespace unmounts all of it and waits for an RCU grace period:
 * done by the addon's lowest-priority thread (native/addon/background_close.h), never on the
 * event loop, and never ahead of a container being made.
 *
 * Mount namespaces are let go in batches, once spawns pause. Even at the lowest priority, a
 * teardown (about thirty mounts, their filesystems, a grace period) overlapped the next
 * container's making in a loop of spawns: its mounts wait for the same kernel locks, and the
 * kernel's own part of it is not preempted. On a 2-core host, 800 spawn+wait+destroy back to
 * back in one process, blocks of ten alternating: median spawn -0.24 to -0.27 ms, p95 6.1 ->
 * 5.4 ms, with each mount namespace let go once IDLE_MS pass without another, or once
 * MAX_PENDING wait. The whole batch then goes to the closing thread: a few spawns in a long
 * loop share its cost, the others none of it.
 *
 * A network namespace goes at once: its interfaces (a veth on a bridge) answer for the
 * container's address until it is torn down, and destroy() promises the address free.
 */
import { native } from '../native/binding';

/** Mount namespaces not let go yet, oldest first. */
const pendingMounts: number[] = [];
let idleTimer: NodeJS.Timeout | undefined;

/** A pause this long with no container's namespaces let go lets the batch go. */
const IDLE_MS = 20;
/** Never more held than this: a long loop of spawns lets them go in batches this large. */
const MAX_PENDING = 16;

/** Closes every fd of `held` in the background and empties it. */
export function releaseNamespaceHolds(held: number[]): void {
  if (held.length === 0) return;
  const now: number[] = [];
  for (const fd of held.splice(0)) {
    if (native().namespaceType(fd) === 'mnt') pendingMounts.push(fd);
    else now.push(fd);
  }
  if (now.length > 0) native().closeInBackground(now);
  if (pendingMounts.length === 0) return;
  if (pendingMounts.length >= MAX_PENDING) {
    letPendingGo();
    return;
  }
  // Not a reason to keep Node running: at its exit the kernel closes them.
  if (idleTimer) idleTimer.refresh();
  else (idleTimer = setTimeout(letPendingGo, IDLE_MS)).unref();
}

/** Hands every pending mount namespace to the closing thread now. */
function letPendingGo(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
  if (pendingMounts.length > 0) native().closeInBackground(pendingMounts.splice(0));
}
