#include "cgroup_mounts.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "mount_api.h"
#include "path_in_root.h"
#include "setup_error.h"

namespace tsc {

namespace {

const unsigned kLockedDown = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

// "<subdir> <controller,controller>" → a v1 hierarchy mount of those controllers.
void mount_v1_hierarchy(const std::string& spec, int root_fd) {
  size_t space = spec.find(' ');
  std::string subdir = spec.substr(0, space);
  std::string controllers = space == std::string::npos ? subdir : spec.substr(space + 1);
  FsOptions options;
  size_t start = 0;
  while (start <= controllers.size()) {
    size_t comma = controllers.find(',', start);
    if (comma == std::string::npos) comma = controllers.size();
    std::string name = controllers.substr(start, comma - start);
    if (!name.empty()) options.push_back({name, ""});
    start = comma + 1;
  }
  std::string target = "/sys/fs/cgroup/" + subdir;
  std::string step = "mount " + target;
  attach_in_root(make_filesystem("cgroup", options, kLockedDown | MOUNT_ATTR_RDONLY, step), root_fd, target,
                 ResolveOptions{CreateAs::Directory, true}, step);
}

}  // namespace

void mount_cgroup_filesystems(const Plan& plan, int root_fd) {
  if (plan.cgroup_mounts.empty()) return;
  if (plan.cgroup_mounts.size() == 1 && plan.cgroup_mounts[0] == "cgroup2") {
    attach_in_root(make_filesystem("cgroup2", {}, kLockedDown | MOUNT_ATTR_RDONLY, "mount /sys/fs/cgroup"), root_fd,
                   "/sys/fs/cgroup", ResolveOptions{CreateAs::Nothing, true}, "mount /sys/fs/cgroup");
    return;
  }
  // v1 or hybrid: a tmpfs holds one directory per hierarchy, then turns read-only.
  int tmpfs = make_filesystem("tmpfs", {{"mode", "755"}, {"size", "64k"}}, kLockedDown, "mount /sys/fs/cgroup");
  attach_in_root(tmpfs, root_fd, "/sys/fs/cgroup", ResolveOptions{CreateAs::Nothing, true}, "mount /sys/fs/cgroup");
  for (const auto& spec : plan.cgroup_mounts) {
    if (spec == "cgroup2") {
      attach_in_root(make_filesystem("cgroup2", {}, kLockedDown | MOUNT_ATTR_RDONLY, "mount /sys/fs/cgroup/unified"),
                     root_fd, "/sys/fs/cgroup/unified", ResolveOptions{CreateAs::Directory, true},
                     "mount /sys/fs/cgroup/unified");
    } else {
      mount_v1_hierarchy(spec, root_fd);
    }
  }
  int top = open_in_root(root_fd, "/sys/fs/cgroup", ResolveOptions{CreateAs::Nothing, true}, "open /sys/fs/cgroup");
  try {
    set_mount_attrs(top, MOUNT_ATTR_RDONLY, 0, false, "make /sys/fs/cgroup read-only");
  } catch (...) {
    close(top);
    throw;
  }
  close(top);
}

}  // namespace tsc
