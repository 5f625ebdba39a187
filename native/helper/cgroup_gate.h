// Cgroups and the writable layer made beside the helper. For a container whose first process
// Node is waiting for, Node makes its writable layer (a record and three directories under the
// data root) and its cgroups (a mkdir per hierarchy, limits, device rules), about a millisecond
// each on some hosts, after it has sent the plan, while the helper clones the process and
// writes its id maps: the two halves of the start overlap. The helper waits for the gate's byte
// right after the id maps, before anything mounts the rootfs (the idmapped overlay, or the
// process's own mount once it is let go to build its root). Where v1 hierarchies are (v1 or
// hybrid), the helper clones the process outside its v1 cgroups (the directories may not
// exist yet; the process joins them itself anyway: cgroup_join.h) and, before it opens them,
// waits on a pipe whose write end Node holds (passed as an owner fd; plan key cgroup.gate) for
// the one byte Node writes once they exist. On a hybrid host Node makes the cgroup2 directory before the
// plan (plan key cgroup.gate_v1_only), and the process is cloned into it. The process waits
// for its joins before it binds its cgroup directories below /sys/fs/cgroup, so nothing of
// the container runs outside its cgroups: they are joined before the process leaves the
// helper's code. On a cgroup v2 host alone the helper waits for the byte before the clone
// instead, and clones the process into its cgroup (a move by cgroup.procs could wait for an
// RCU grace period; CLONE_INTO_CGROUP never does).
// End of file instead of the byte (Node failed to make them, or died) is a setup error: the
// process is killed before it has built anything.
#pragma once

#include "common/plan.h"

namespace tsc {

// The gate's pipe among the plan's owner fds; -1 when Node made the cgroups before the plan.
int cgroup_gate_fd(const Plan& plan);

// Returns once Node says the cgroups and the writable layer exist; throws SetupError when it
// closed the gate instead.
void await_cgroups_made(int gate_fd);

}  // namespace tsc
