// Putting a new process into its container's cgroups. On cgroup v2 the
// process is cloned straight into its cgroup (CLONE_INTO_CGROUP), and that
// fork is counted against the pids limit. On v1 the helper writes its pid into
// each hierarchy's cgroup.procs while it waits, before it runs any code of its
// own; a move is not checked against pids.max, so the helper checks it after.
#pragma once

#include <sys/types.h>

#include "plan.h"

namespace tsc {

#include <vector>

// The container's cgroups, opened while the helper still sees the host's
// filesystem (an exec helper then enters the container's mount namespace).
struct CgroupTargets {
  int v2_directory = -1;           // for CLONE_INTO_CGROUP
  std::vector<int> v1_procs;       // cgroup.procs of each v1 hierarchy, open for writing
  int v1_pids_directory = -1;      // the v1 pids cgroup, to check its limit after a move

  static CgroupTargets open_for(const Plan& plan);
  // Writes pid into every v1 cgroup.procs.
  void join_v1(pid_t pid) const;
  // Throws SetupError{..., EAGAIN} when the v1 pids cgroup is now over its limit.
  void check_pids_limit() const;
  void close_all();
};

}  // namespace tsc
