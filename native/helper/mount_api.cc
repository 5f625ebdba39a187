#include "helper/mount_api.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/setup_error.h"
#include "common/syscalls.h"

namespace tsc {

int make_filesystem(const std::string& fstype, const FsOptions& options, unsigned attr_flags,
                    const std::string& step) {
  int fs_fd = static_cast<int>(check(sys_fsopen(fstype.c_str(), FSOPEN_CLOEXEC), step));
  for (const auto& [key, value] : options) {
    long rc = value.empty() ? sys_fsconfig(fs_fd, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                            : sys_fsconfig(fs_fd, FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    if (rc < 0) {
      int saved = errno;
      close(fs_fd);
      throw SetupError{step + " (option " + key + ")", saved};
    }
  }
  if (sys_fsconfig(fs_fd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    int saved = errno;
    close(fs_fd);
    throw SetupError{step, saved};
  }
  int mount_fd = sys_fsmount(fs_fd, FSMOUNT_CLOEXEC, attr_flags);
  int saved = errno;
  close(fs_fd);
  if (mount_fd < 0) throw SetupError{step, saved};
  return mount_fd;
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
  long rc = sys_move_mount(mount_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int saved = errno;
  close(mount_fd);
  close(target_fd);
  if (rc < 0) throw SetupError{step, saved};
}

void attach_in_root(int mount_fd, int root_fd, const std::string& target, const ResolveOptions& resolve,
                    const std::string& step) {
  int target_fd;
  try {
    target_fd = open_in_root(root_fd, target, resolve, step);
  } catch (...) {
    close(mount_fd);
    throw;
  }
  attach_mount(mount_fd, target_fd, step);
}

int attach_in_root_kept(int mount_fd, int root_fd, const std::string& target, const ResolveOptions& resolve,
                        const std::string& step) {
  int kept = fcntl(mount_fd, F_DUPFD_CLOEXEC, 0);
  if (kept < 0) {
    int saved = errno;
    close(mount_fd);
    throw SetupError{step, saved};
  }
  try {
    attach_in_root(mount_fd, root_fd, target, resolve, step);
  } catch (...) {
    close(kept);
    throw;
  }
  return kept;
}

}  // namespace tsc
