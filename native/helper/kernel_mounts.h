// The filesystems that setup mounts at fixed places in a rootfs (/proc, /sys,
// /dev, /tmp, /run), each kept by the fd of its mount. A rootfs directory may
// be shared with a writer (another container with it as a writable bind): it
// can rename `proc` away, or exchange it with an empty directory, between any
// two steps. So a mount is looked up by path once, to attach it; every later
// step inside it (masks, read-only paths, devices, /sys/fs/cgroup) goes through
// its fd, and before pivot_root each one is checked to be still at its path.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tsc {

class KernelMounts {
 public:
  KernelMounts() = default;
  KernelMounts(const KernelMounts&) = delete;
  KernelMounts& operator=(const KernelMounts&) = delete;
  ~KernelMounts();

  // Attaches the detached mount `mount_fd` at `path` in the rootfs (made as a
  // directory if missing, no symlinks on the way) and keeps it; returns the kept
  // fd, owned here.
  int attach(int mount_fd, int root_fd, const std::string& path, const std::string& step);

  // The kept mount that holds `path` (the longest match), or -1; *rest is the
  // path inside that mount.
  int holding(const std::string& path, std::string* rest) const;

  // Throws SetupError(ESTALE) unless each kept mount is the one now at its path,
  // but for paths the caller's own mounts cover (`covered` says which).
  template <typename Covered>
  void check_in_place(int root_fd, Covered covered) const {
    for (const auto& [path, fd] : mounts_) {
      if (!covered(path)) check_one(root_fd, path, fd);
    }
  }

 private:
  static void check_one(int root_fd, const std::string& path, int mount_fd);
  std::vector<std::pair<std::string, int>> mounts_;
};

// The id of the mount that `fd` is on (statx STATX_MNT_ID).
unsigned long long mount_id_of(int fd, const std::string& step);

}  // namespace tsc
