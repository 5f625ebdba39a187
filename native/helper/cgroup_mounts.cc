#include "helper/cgroup_mounts.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "common/setup_error.h"
#include "common/unique_fd.h"
#include "helper/mount_api.h"
#include "helper/path_in_root.h"

namespace tsc {

namespace {

const unsigned kLockedDown = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

// The host's directory of the container's cgroup, bound read-only: the same view
// a cgroup filesystem mounted in the container's cgroup namespace gives (its
// root is the container's cgroup), at a fraction of the cost of a mount.
void bind_cgroup_directory(const std::string& host_dir, int in_fd, const std::string& target, CreateAs create,
                           const std::string& step) {
  StepScope mounting(StepId::Mount);
  UniqueFd tree(clone_tree(AT_FDCWD, host_dir, false, step));
  set_mount_attrs(tree.get(), kLockedDown | MOUNT_ATTR_RDONLY, 0, false, step);
  attach_in_root(tree.release(), in_fd, target, ResolveOptions{create, true}, step);
}

}  // namespace

void mount_cgroup_filesystems(const Plan& plan, int sys_mount_fd) {
  if (plan.cgroup_mounts.empty()) return;
  // Each entry: "<subdir> <host directory>"; an empty subdir is /sys/fs/cgroup itself.
  auto split = [](const std::string& spec) {
    size_t space = spec.find(' ');
    return std::make_pair(spec.substr(0, space), space == std::string::npos ? std::string() : spec.substr(space + 1));
  };
  if (plan.cgroup_mounts.size() == 1 && split(plan.cgroup_mounts[0]).first == "-") {
    bind_cgroup_directory(split(plan.cgroup_mounts[0]).second, sys_mount_fd, "/fs/cgroup", CreateAs::Nothing,
                          "mount /sys/fs/cgroup");
    return;
  }
  // v1 or hybrid: a tmpfs holds one directory per hierarchy, then turns
  // read-only; its directories are made and bound through its own fd.
  const std::string step = "mount /sys/fs/cgroup";
  std::optional<StepScope> mounting(std::in_place, StepId::Mount);
  int tmpfs = make_filesystem("tmpfs", {{"mode", "755"}, {"size", "64k"}}, kLockedDown, step);
  UniqueFd top(attach_in_root_kept(tmpfs, sys_mount_fd, "/fs/cgroup", ResolveOptions{CreateAs::Nothing, true}, step));
  mounting.reset();
  for (const auto& spec : plan.cgroup_mounts) {
    auto [subdir, host_dir] = split(spec);
    bind_cgroup_directory(host_dir, top.get(), "/" + subdir, CreateAs::Directory, "mount /sys/fs/cgroup/" + subdir);
  }
  // A hierarchy mounted with several controllers ("cpu,cpuacct") is reached by each
  // controller's name too, as on the host: programs read /sys/fs/cgroup/cpu/cpu.shares.
  for (const auto& spec : plan.cgroup_links) {
    auto [name, target] = split(spec);
    check(symlinkat(target.c_str(), top.get(), name.c_str()), "symlink /sys/fs/cgroup/" + name);
  }
  set_mount_attrs(top.get(), MOUNT_ATTR_RDONLY, 0, false, "make /sys/fs/cgroup read-only");
}

}  // namespace tsc
