#include "helper/kernel_mounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/setup_error.h"
#include "common/unique_fd.h"
#include "helper/mount_api.h"
#include "helper/path_in_root.h"

namespace tsc {

KernelMounts::~KernelMounts() {
  for (auto& entry : mounts_) close(entry.second);
}

int KernelMounts::attach(int mount_fd, int root_fd, const std::string& path, const std::string& step) {
  int kept = attach_in_root_kept(mount_fd, root_fd, path, ResolveOptions{CreateAs::Directory, true}, step);
  mounts_.emplace_back(path, kept);
  return kept;
}

int KernelMounts::holding(const std::string& path, std::string* rest) const {
  int best = -1;
  size_t best_length = 0;
  for (const auto& [mount_path, fd] : mounts_) {
    bool inside = path == mount_path ||
                  (path.size() > mount_path.size() && path.compare(0, mount_path.size(), mount_path) == 0 &&
                   path[mount_path.size()] == '/');
    if (inside && mount_path.size() >= best_length) {
      best = fd;
      best_length = mount_path.size();
      *rest = path.size() == mount_path.size() ? "/" : path.substr(mount_path.size());
    }
  }
  return best;
}

unsigned long long mount_id_of(int fd, const std::string& step) {
  struct statx stx;
  check(statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx), step);
  if (!(stx.stx_mask & STATX_MNT_ID)) throw SetupError{step + " (no mount id from statx)", ENOSYS};
  return stx.stx_mnt_id;
}

void KernelMounts::check_one(int root_fd, const std::string& path, int mount_fd) {
  std::string step = "check " + path + " (it moved during setup: is the rootfs shared with a writer?)";
  UniqueFd now;
  try {
    now.reset(open_in_root(root_fd, path, ResolveOptions{CreateAs::Nothing, true}, step));
  } catch (const SetupError& e) {
    // Renamed away, or a symlink put in its place.
    throw SetupError{step, ESTALE};
  }
  unsigned long long found = mount_id_of(now.get(), step);
  now.reset();
  if (found != mount_id_of(mount_fd, step)) throw SetupError{step, ESTALE};
}

}  // namespace tsc
