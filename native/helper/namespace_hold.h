// Node holds the mount and network namespaces of a container it reaps until after its
// exit is seen: the last process's exit then does not tear them down itself (an unmount of
// every mount, with an RCU grace period, and a network namespace's cleanup), and that
// teardown happens when Node closes its hold, off the path that reports the exit.
#pragma once

#include <sys/types.h>

namespace tsc {

// Sends Node, over the control channel, one "namespace-hold" message per namespace of
// `pid` among `namespace_flags` that is worth holding (mount, network), each with an fd of it.
void send_namespace_holds(pid_t pid, unsigned long namespace_flags);

}  // namespace tsc
