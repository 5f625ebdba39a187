// The rootfs as an overlay mount: lower layers (an image's, or a rootfs directory), read-only
// and shared by every container that uses them, under the container's own upper layer, which
// takes every write and goes away with the container. Made with the fd-based mount API: one
// "lowerdir+" per layer (Linux 6.8 and later); before 6.8, one "lowerdir" string of short
// /proc/self/fd paths, since fsconfig takes at most 255 bytes per value.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/plan.h"

namespace tsc {

// overlayfs stacks at most this many lower layers (its OVL_MAX_STACK).
constexpr size_t kOverlayMaxLowerLayers = 500;

// The lower layers, top first: their paths (named in errors, and mounted by path when there are
// no fds) and, when given, the layers themselves as fds of detached trees, in the same order.
struct OverlayLower {
  std::vector<std::string> paths;
  std::vector<int> fds;
};

// The overlay's lower layers as the plan gives them: plan.rootfs_lower, by path.
inline OverlayLower planned_lower_layers(const Plan& plan) { return OverlayLower{plan.rootfs_lower, {}}; }

// A detached overlay mount of `lower`, with plan.rootfs_upper and plan.rootfs_work as its
// writable layer when they are set; nodev, as every rootfs. `inside_user_namespace`: mounted
// by the container's root in its user namespace, where overlayfs must keep its own xattrs in
// user.overlay.* (userxattr), not trusted.overlay.*.
int make_overlay_root(const Plan& plan, const OverlayLower& lower, bool inside_user_namespace);

}  // namespace tsc
