#include "helper/mount_api.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"

namespace tsc {

int make_filesystem(const std::string& fstype, const FsOptions& options, unsigned attr_flags,
                    const std::string& step) {
  UniqueFd fs(check(sys_fsopen(fstype.c_str(), FSOPEN_CLOEXEC), step));
  for (const auto& [key, value] : options) {
    long rc = value.empty() ? sys_fsconfig(fs.get(), FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                            : sys_fsconfig(fs.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    if (rc < 0) {
      int saved = errno;
      throw SetupError{step + " (option " + key + ")", saved};
    }
  }
  check(sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), step);
  return static_cast<int>(check(sys_fsmount(fs.get(), FSMOUNT_CLOEXEC, attr_flags), step));
}

int clone_tree(int dir_fd, const std::string& path, bool recursive, const std::string& step) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (recursive) flags |= AT_RECURSIVE;
  if (path.empty()) flags |= AT_EMPTY_PATH;
  return static_cast<int>(check(sys_open_tree(dir_fd, path.c_str(), flags), step));
}

void set_mount_attrs(int mount_fd, unsigned set_flags, unsigned clear_flags, bool recursive,
                     const std::string& step) {
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = set_flags;
  attr.attr_clr = clear_flags;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  check(sys_mount_setattr(mount_fd, "", flags, &attr), step);
}

void attach_mount(int mount_fd, int target_fd, const std::string& step) {
  UniqueFd mount(mount_fd);
  UniqueFd target(target_fd);
  check(sys_move_mount(mount.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), step);
}

void attach_in_root(int mount_fd, int root_fd, const std::string& target, const ResolveOptions& resolve,
                    const std::string& step) {
  UniqueFd mount(mount_fd);
  int target_fd = open_in_root(root_fd, target, resolve, step);
  attach_mount(mount.release(), target_fd, step);
}

int attach_in_root_kept(int mount_fd, int root_fd, const std::string& target, const ResolveOptions& resolve,
                        const std::string& step) {
  UniqueFd mount(mount_fd);
  UniqueFd kept(check(fcntl(mount_fd, F_DUPFD_CLOEXEC, 0), step));
  attach_in_root(mount.release(), root_fd, target, resolve, step);
  return kept.release();
}

}  // namespace tsc
