// The setup server: the helper started once per Node process (argv[1] ==
// "server"). For each container or exec, Node sends it one request with the
// fds a one-shot helper would find at fixed numbers; it clones a worker as
// Node's child (CLONE_PARENT), replies with the worker's pid and closes its
// copies. The worker lays the fds out as posix_spawn would have and runs the
// one-shot body: from there on it is exactly a one-shot helper.
#pragma once

namespace tsc {

// What the one-shot helper runs once its fds are in place (stdio 0-2, control
// channel at kControlFd, join pidfd at kJoinPidfd, owner fds from kFirstOwnerFd):
// returns its exit status.
using OneShotBody = int (*)(int owner_fd_count);

// Serves requests on kSetupServerFd until Node's end closes; returns the exit status.
int run_setup_server(OneShotBody body);

}  // namespace tsc
