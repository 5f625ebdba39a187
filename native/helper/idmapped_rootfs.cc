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

}  // namespace

bool wants_idmapped_rootfs(const Plan& plan) {
  return plan.has_namespace("user") && plan.has_namespace("mount") && !plan.rootfs_is_host && !plan.rootfs_lower.empty() &&
         has_sys_admin();
}

int make_idmapped_rootfs(const Plan& plan, pid_t pid) {
  std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/user";
  UniqueFd userns(check(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC), StepId::IdmapMount, "open the user namespace"));
  std::vector<UniqueFd> trees;
  std::vector<int> fds;
  StepScope idmapping(StepId::IdmapMount);
  for (const std::string& layer : plan.rootfs_lower) {
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
    fds.push_back(trees.back().get());
  }
  return make_overlay_root(plan, fds, false);
}

}  // namespace tsc
