#include "helper/setup_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "common/control_channel.h"
#include "common/setup_request.h"
#include "common/syscalls.h"
#include "helper/network_namespace_maker.h"

namespace tsc {

namespace {

// Above every number a worker's fds land on, so that moving them cannot overwrite one not yet moved.
constexpr int kAboveTargets = kPremadeNetworkFd + 1;

// In the worker: the request's fds at the numbers a one-shot helper finds them, the network
// namespace made ahead (if any) at kPremadeNetworkFd, and no other fd (the server's channel
// above all).
void lay_out_fds(const SetupRequest& request, int premade_network) {
  std::vector<int> targets = {0, 1, 2, kControlFd};
  if (request.has_join_pidfd) targets.push_back(kJoinPidfd);
  for (int i = 0; i < request.owner_fd_count; i++) targets.push_back(kFirstOwnerFd + i);
  std::vector<int> sources = request.fds;
  if (premade_network >= 0) {
    targets.push_back(kPremadeNetworkFd);
    sources.push_back(premade_network);
  }
  std::vector<int> moved;
  for (int fd : sources) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, kAboveTargets);
    if (copy < 0) _exit(2);
    moved.push_back(copy);
  }
  for (size_t i = 0; i < moved.size(); i++) {
    if (dup2(moved[i], targets[i]) < 0) _exit(2);  // clears close-on-exec, as posix_spawn's dup2 did
  }
  if (!request.has_join_pidfd) close(kJoinPidfd);
  int first_unused = kFirstOwnerFd + request.owner_fd_count;
  if (premade_network >= 0) {
    if (first_unused < kPremadeNetworkFd) sys_close_range(static_cast<unsigned>(first_unused), kPremadeNetworkFd - 1, 0);
    sys_close_range(kPremadeNetworkFd + 1, ~0U, 0);
  } else {
    sys_close_range(static_cast<unsigned>(first_unused), ~0U, 0);
  }
}

// Clones the worker as Node's child: Node reaps it (and what it clones with
// CLONE_PARENT) exactly as it reaped a posix_spawned helper. Returns its pid
// or -errno; never returns in the worker.
pid_t clone_worker(const SetupRequest& request, int premade_network, OneShotBody body) {
  struct clone_args args = {};
  args.flags = CLONE_PARENT;
  // With CLONE_PARENT the exit signal is the server's own (SIGCHLD, to Node).
  args.exit_signal = 0;
  long pid = sys_clone3(&args);
  if (pid < 0) return -errno;
  if (pid > 0) return static_cast<pid_t>(pid);
  lay_out_fds(request, premade_network);
  // Named to Node first (its pid is the message's sender), while still in the server's
  // process group: a worker that dies before this is found there (reap_dead_unnamed_workers
  // in the addon). Then a group of its own, before it clones anything: whatever it clones
  // is found by that group if it dies before naming it (reap_unnamed_children).
  if (send_message(kControlFd, kWorkerNamedMessage, -1) < 0) _exit(2);
  if (setpgid(0, 0) < 0) _exit(2);
  expect_premade_network_namespace();
  prctl(PR_SET_NAME, "tsc-helper", 0, 0, 0);
  // _exit: the helper buffers no stdio, and the server's exit handlers are not this clone's to
  // run (each would fault its code pages in, per container).
  _exit(body(request.owner_fd_count));
}

}  // namespace

int run_setup_server(OneShotBody body) {
  // Nothing can read this process's memory or take its fds (/proc/<pid>/mem, pidfd_getfd)
  // but root with CAP_SYS_PTRACE; workers inherit this and set their own as they go.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // The name ps and /proc/<pid>/comm show (a worker takes its own, its monitor inherits that).
  prctl(PR_SET_NAME, "tsc-setup-srv", 0, 0, 0);
  // Only stdio (on /dev/null) and the channel to Node.
  sys_close_range(kSetupServerFd + 1, ~0U, 0);
  // Its own network namespace, to come back to after making one ahead; and the one made
  // ahead for the next worker (network_namespace_maker.h).
  int own_network = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int premade_network = -1;
  for (;;) {
    SetupRequest request;
    long n = receive_setup_request(kSetupServerFd, &request);
    if (n == 0) return 0;  // Node's end closed: Node exited or let go of the server
    // A malformed request's fds are closed: Node sees its control channel end unnamed.
    if (n == -EPROTO || n == -EMSGSIZE) continue;
    if (n < 0) return 1;
    pid_t pid = clone_worker(request, premade_network, body);
    if (request.stop_after_clone) raise(SIGSTOP);
    // Given to that worker (or lost with a clone that failed): never to another.
    if (premade_network >= 0) close(premade_network);
    premade_network = -1;
    if (pid < 0) {
      // Said where Node waits for the worker: as the report of a helper that failed.
      Report failed;
      failed.err = -pid;
      failed.step = "clone the helper's worker";
      // The request's fds are in the order the worker finds them: its control channel is at kControlFd.
      send_message(request.fds[kControlFd], encode_report(failed), -1);
    }
    // The worker has its own copies; the server keeps nothing it received.
    for (int fd : request.fds) close(fd);
    // While the worker sets up its container, off its path: the next worker's. Not while
    // another request waits (a burst of spawns): those workers make their own.
    struct pollfd pending = {kSetupServerFd, POLLIN, 0};
    if (poll(&pending, 1, 0) == 0) {
      // Woken by Node's request, this server often runs on Node's CPU, ahead of Node's main
      // thread: without a yield, Node waited the whole namespace's making (about 0.5 ms, in
      // about one spawn of five) before it could send the plan. Yielding lets Node go on first.
      sched_yield();
      premade_network = make_network_namespace_ahead(own_network);
    }
  }
}

}  // namespace tsc
