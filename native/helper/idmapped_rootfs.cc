#include "helper/idmapped_rootfs.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"
#include "helper/mount_api.h"
#include "helper/overlay_root.h"

namespace tsc {

namespace {

// CAP_SYS_ADMIN in the helper's effective set (the initial user namespace: the helper never
// runs in another): what open_tree of a host directory and idmapping it need.
bool has_sys_admin() {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32))) != 0;
}

// A read-only rootfs directory (no overlay in the plan) mounted as an overlay, so that its
// idmapped tree stays out of the container's reach: a bind of it, read-only, could be made
// writable again by a container root given CAP_SYS_ADMIN, which would then write as the
// directory's owners. overlayfs takes one lower layer only with an upper one: an empty,
// read-only tmpfs goes below it.
bool is_read_only_directory(const Plan& plan) { return plan.rootfs_lower.empty() && plan.rootfs_readonly && !plan.rootfs.empty(); }

}  // namespace

bool wants_idmapped_rootfs(const Plan& plan) {
  if (!plan.has_namespace("user") || !plan.has_namespace("mount") || plan.rootfs_is_host) return false;
  return (!plan.rootfs_lower.empty() || is_read_only_directory(plan)) && has_sys_admin();
}

int make_idmapped_rootfs(const Plan& plan, pid_t pid) {
  std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/user";
  UniqueFd userns(check(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC), StepId::IdmapMount, "open the user namespace"));
  std::vector<UniqueFd> trees;
  OverlayLower lower;
  StepScope idmapping(StepId::IdmapMount);
  const std::vector<std::string> layers = is_read_only_directory(plan) ? std::vector<std::string>{plan.rootfs} : plan.rootfs_lower;
  for (const std::string& layer : layers) {
    std::string step = "idmap the rootfs layer " + layer + " for the user namespace";
    // One layer is one directory: its own submounts (there should be none) are not taken along.
    trees.emplace_back(clone_tree(AT_FDCWD, layer, false, step));
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<__u64>(userns.get());
    if (sys_mount_setattr(trees.back().get(), "", AT_EMPTY_PATH, &attr) < 0) {
      int err = errno;
      // EINVAL: the layer's filesystem cannot be idmapped (e.g. NFS, or a FUSE filesystem);
      // the layers then need a data root on one that can (ext4, xfs, btrfs, tmpfs).
      throw SetupError{step + (err == EINVAL ? " (its filesystem does not support idmapped mounts)" : ""), err, StepId::IdmapMount};
    }
    lower.paths.push_back(layer);
    lower.fds.push_back(trees.back().get());
  }
  if (is_read_only_directory(plan)) {
    trees.emplace_back(make_filesystem("tmpfs", {{"mode", "755"}, {"size", "4k"}}, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV,
                                       "mount an empty layer below the rootfs"));
    lower.paths.push_back("(an empty layer below the rootfs)");
    lower.fds.push_back(trees.back().get());
  }
  return make_overlay_root(plan, lower, false);
}

}  // namespace tsc
