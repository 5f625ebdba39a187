// The container's own view of its cgroups at /sys/fs/cgroup, read-only:
// mounted inside its cgroup namespace, so the root shown is its own cgroup.
#pragma once

#include "plan.h"

namespace tsc {

void mount_cgroup_filesystems(const Plan& plan, int root_fd);

}  // namespace tsc
