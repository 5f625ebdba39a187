// Closing fds whose last close is heavy work, off every thread that matters.
//
// Node holds a container's mount and network namespaces until its exit is seen
// (native/helper/namespace_hold.h). The last close of a mount namespace unmounts each of its
// mounts (about forty) and waits for an RCU grace period. Closed on libuv's pool, the pool
// thread woken for it took a core at Node's priority, often Node's own: on a 2-core host,
// Node's thread was off its core for 134 us at the median (351 us at p90) of every exit, and
// the next container's helper was kept waiting as well.
#pragma once

#include <napi.h>

namespace tsc {

// closeInBackground(fds: number[]) → undefined: the fds are closed, in order, by one thread of
//   this process that runs at the lowest priority (nice 19): it takes a core only when no
//   other thread of the host wants one. The fds are this addon's from the call on; any the
//   thread has not closed when the process exits are closed by the kernel then.
void InitBackgroundClose(Napi::Env env, Napi::Object exports);

}  // namespace tsc
