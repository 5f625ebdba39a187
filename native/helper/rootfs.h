// The container's filesystem view: the rootfs tree, the kernel filesystems,
// the user's mounts, masked and read-only paths, then pivot_root into it.
// Runs in the container's first process, inside its new mount namespace.
#pragma once

#include "common/plan.h"

namespace tsc {

// `prepared_overlay`: the rootfs overlay the helper made (idmapped_rootfs.h), or -1.
void build_rootfs(const Plan& plan, int prepared_overlay = -1);

}  // namespace tsc
