// A container's network namespace, made ahead by the setup server or beside its first
// process, rather than by its clone.
//
// Making a network namespace is the dearest part of cloning a container (every network
// subsystem sets itself up: most of clone3's time, on the path to the program's start). So
// the helper clones the process without CLONE_NEWNET and, while the process builds its root,
// a short-lived process of the helper enters the container's user namespace (its id maps
// written), makes the network namespace there, so that it has the owner the clone would have
// given it, brings lo up and hands it back. The helper passes it to the container's process,
// which joins it when its root reaches /sys (sysfs shows the network devices of the namespace
// it is mounted in), before anything of its program runs. For a container without a user
// namespace of its own, the setup server has made one ahead (below). Nothing else ever joins
// that namespace: it is as new and as private as one made by the clone.
#pragma once

#include <sys/types.h>

namespace tsc {

// Whether the process's network namespace is made beside it: whenever it gets a new one (one
// shared with another container is joined before the clone, as before).
bool makes_network_namespace_apart(unsigned long clone_flags);

// Made ahead. A container without a user namespace of its own gets a network namespace owned
// by the helper's user namespace, which needs nothing of the container: the setup server makes
// one after it has answered a request (off every container's path), keeps it, and gives it to
// the next worker it clones (at kPremadeNetworkFd), never to two. A worker that cannot use it
// (the container has a user namespace, shares a network namespace, or is an exec) closes it.

// In the setup server: a new network namespace with lo up, made by entering it and coming back
// to `own_namespace`; -1 when it cannot be made (no privilege for it). Exits the process if it
// could not come back, rather than serve from a namespace not its own.
int make_network_namespace_ahead(int own_namespace);

// In a worker of the setup server, before run_one_shot: kPremadeNetworkFd is the server's.
// (A one-shot helper started by another program never takes what it finds there.)
void expect_premade_network_namespace();

// In a worker: the namespace the server made ahead for it (at kPremadeNetworkFd), once; -1
// when there is none.
int take_premade_network_namespace();

// The maker at work: its pid (the helper's child) and the helper's end of its socket.
struct NetworkNamespaceMaker {
  pid_t pid = -1;
  int socket = -1;
};

// Starts making the network namespace in the user namespace of `container_pid`, whose id
// maps are written. Throws SetupError when the maker cannot be started.
NetworkNamespaceMaker start_network_namespace_maker(pid_t container_pid);

// Waits for the maker, reaps it and returns the namespace; throws SetupError with the maker's
// own errno and step when it failed.
int finish_network_namespace_maker(NetworkNamespaceMaker* maker);

// Ends a maker that is no longer wanted (the setup failed meanwhile): killed and reaped.
void abandon_network_namespace_maker(NetworkNamespaceMaker* maker);

// Sends the namespace (made apart or ahead) to the container's process over its channel.
void send_network_namespace(int channel_fd, int namespace_fd);

// In the container's process: receives the namespace from the helper and joins it.
void join_network_namespace_made_apart(int channel_fd);

}  // namespace tsc
