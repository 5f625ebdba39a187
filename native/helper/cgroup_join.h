// Putting a new process into its container's cgroups. On cgroup v2 the
// process is cloned straight into its cgroup (CLONE_INTO_CGROUP), and that
// fork is counted against the pids limit. On v1 the helper writes its pid into
// each hierarchy's cgroup.procs while it waits, before it runs any code of its
// own; a move is not checked against pids.max, so the helper checks it after.
#pragma once

#include <sys/types.h>

#include "common/plan.h"

namespace tsc {

#include <vector>

// The container's cgroups, opened while the helper still sees the host's
// filesystem (an exec helper then enters the container's mount namespace).
struct CgroupTargets {
  int v2_directory = -1;       // for CLONE_INTO_CGROUP
  std::vector<int> procs;      // cgroup.procs files to move the process into, open for writing
  int pids_directory = -1;     // the pids cgroup, to check its limit after a move

  // clone_into: the process is cloned into the v2 cgroup (the first process,
  // cloned with the helper's full credentials); otherwise it is moved into it
  // through its cgroup.procs like the v1 ones: the kernel checks a move with
  // the credentials and cgroup namespace of whoever opened the file, the
  // helper here, before it takes the container's credentials.
  static CgroupTargets open_for(const Plan& plan, bool clone_into);
  // Writes pid into every cgroup.procs.
  void join(pid_t pid) const;
  // Throws SetupError{..., EAGAIN} when the pids cgroup is now over its limit
  // (a move is not checked against pids.max; a fork is).
  void check_pids_limit() const;
  void close_all();
};

}  // namespace tsc
