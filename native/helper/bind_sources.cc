#include "helper/bind_sources.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"
#include "helper/mount_api.h"

namespace tsc {

namespace {

std::string bind_step(const MountSpec& m) { return "mount " + m.target + " (source " + m.source + ")"; }

}  // namespace

void prepare_bind_sources(Plan& plan) {
  close_bind_sources(plan);
  try {
    for (const auto& m : plan.mounts) {
      if (m.type != "bind") {
        plan.bind_tree_fds.push_back(-1);
        continue;
      }
      std::string step = bind_step(m);
      StepScope opening(StepId::MountBindSource);
      int tree = clone_tree(AT_FDCWD, m.source, m.recursive, step);
      plan.bind_tree_fds.push_back(tree);
      // nodev: a device node the container's root makes there cannot be opened.
      set_mount_attrs(tree, MOUNT_ATTR_NODEV | (m.readonly ? MOUNT_ATTR_RDONLY : 0), 0, m.recursive, step);
    }
  } catch (...) {
    close_bind_sources(plan);
    throw;
  }
}

void idmap_bind_sources(const Plan& plan, pid_t pid) {
  if (plan.bind_tree_fds.empty()) return;
  std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/user";
  UniqueFd userns(check(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC), "open the user namespace"));
  for (size_t i = 0; i < plan.mounts.size() && i < plan.bind_tree_fds.size(); i++) {
    int tree = plan.bind_tree_fds[i];
    if (tree < 0) continue;
    const MountSpec& m = plan.mounts[i];
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<__u64>(userns.get());
    unsigned flags = AT_EMPTY_PATH | (m.recursive ? AT_RECURSIVE : 0);
    if (sys_mount_setattr(tree, "", flags, &attr) < 0) {
      int saved = errno;
      // EINVAL: a filesystem of the tree cannot be idmapped (e.g. proc, or a FUSE mount).
      throw SetupError{"idmap " + bind_step(m), saved, StepId::IdmapMount};
    }
  }
}

void close_bind_sources(Plan& plan) {
  for (int fd : plan.bind_tree_fds) {
    if (fd >= 0) close(fd);
  }
  plan.bind_tree_fds.clear();
}

}  // namespace tsc
