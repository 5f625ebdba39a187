// The container's own view of its cgroups at /sys/fs/cgroup, read-only:
// mounted inside its cgroup namespace, so the root shown is its own cgroup.
#pragma once

#include "common/plan.h"

namespace tsc {

// sys_mount_fd: the container's /sys mount, already attached; every target is
// resolved inside it, never by its path in the rootfs.
void mount_cgroup_filesystems(const Plan& plan, int sys_mount_fd);

}  // namespace tsc
