// Putting a new process into its container's cgroups. On cgroup v2 the
// process is cloned straight into its cgroup (CLONE_INTO_CGROUP), and that
// fork is counted against the pids limit. Otherwise the process joins each
// cgroup while it waits at its parent's cgroup gate, before it runs any code of
// its own: a v2 cgroup (one it was not cloned into) by the helper, which writes
// its pid into cgroup.procs; every v1 hierarchy by the process itself, which
// writes "0" into the hierarchy's `tasks` file. A move by cgroup.procs, or of
// another process, write-locks the kernel's global threadgroup semaphore, whose
// first writer after a quiet spell waits for an RCU grace period (6-10 ms on a
// 2-core host, in about one spawn of ten when they come back to back); a
// process that moves its only thread itself takes no such lock. A move is not
// checked against pids.max: the process checks it after its own joins.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/plan.h"

namespace tsc {

// The container's cgroups, opened while the helper still sees the host's
// filesystem (an exec helper then enters the container's mount namespace).
struct CgroupTargets {
  int v2_directory = -1;       // for CLONE_INTO_CGROUP
  std::vector<int> procs;      // cgroup.procs files the helper moves the process into, open for writing
  std::vector<int> own_moves;  // v1 `tasks` files the process moves itself into, open for writing
  int pids_directory = -1;     // the pids cgroup, to check its limit after the moves

  // clone_into: the process is cloned into the v2 cgroup (the first process,
  // cloned with the helper's full credentials); otherwise it is moved into it
  // through its cgroup.procs. The kernel checks a move with the credentials
  // and cgroup namespace of whoever opened the file (the helper here, before
  // it takes the container's credentials); a thread that moves itself passes
  // v1's check on any kernel.
  static CgroupTargets open_for(const Plan& plan, bool clone_into);
  // The helper's part: writes pid into every cgroup.procs.
  void join(pid_t pid) const;
  // Sends the process what it needs for its own part (own_moves and the pids
  // cgroup) on its channel; it takes them in join_own_cgroups.
  void send_to_process(int channel_fd) const;
  void close_all();
};

// The process's own part, at its parent's cgroup gate: takes what
// send_to_process sent on `channel_fd`, moves itself into each v1 hierarchy,
// and throws SetupError{..., EAGAIN} when its pids cgroup is now over its limit.
void join_own_cgroups(int channel_fd);

}  // namespace tsc
