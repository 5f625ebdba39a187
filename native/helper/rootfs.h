// The container's filesystem view: the rootfs tree, the kernel filesystems,
// the user's mounts, masked and read-only paths, then pivot_root into it.
// Runs in the container's first process, inside its new mount namespace.
#pragma once

#include <functional>

#include "common/plan.h"

namespace tsc {

// `prepared_overlay`: the rootfs overlay the helper made (idmapped_rootfs.h), or -1.
// `enter_cgroups` returns once the process is in its cgroups; called before their
// directories are bound below /sys/fs/cgroup (they may be made while the root is built).
void build_rootfs(const Plan& plan, int prepared_overlay, const std::function<void()>& enter_cgroups);

}  // namespace tsc
