#include "helper/path_in_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/setup_error.h"
#include "common/syscalls.h"

namespace tsc {

namespace {

int resolve(int root_fd, const std::string& path, bool no_symlinks) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (no_symlinks) how.resolve |= RESOLVE_NO_SYMLINKS;
  std::string relative = path;
  while (!relative.empty() && relative[0] == '/') relative.erase(0, 1);
  if (relative.empty()) relative = ".";
  int fd;
  do {
    fd = sys_openat2(root_fd, relative.c_str(), &how);
  } while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  return fd;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string trim_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

int open_in_root(int root_fd, const std::string& raw_path, const ResolveOptions& options, const std::string& step) {
  const std::string path = trim_slashes(raw_path);
  int fd = resolve(root_fd, path, options.no_symlinks);
  if (fd >= 0 || errno != ENOENT || options.create == CreateAs::Nothing || path == "/") {
    if (fd < 0) throw SetupError{step, errno};
    return fd;
  }
  // Make the parent first (as a directory), then the last component inside it,
  // through fds only: the parent fd was resolved inside the root.
  ResolveOptions parent_options{CreateAs::Directory, options.no_symlinks};
  int parent_fd = open_in_root(root_fd, parent_of(path), parent_options, step);
  std::string name = base_of(path);
  // O_PATH fds cannot be used with mkdirat/openat for creation directly on all
  // kernels; reopen the parent as a real directory fd.
  int dir_fd = openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int saved = errno;
  close(parent_fd);
  if (dir_fd < 0) throw SetupError{step, saved};
  int rc;
  if (options.create == CreateAs::Directory) {
    rc = mkdirat(dir_fd, name.c_str(), 0755);
  } else {
    rc = openat(dir_fd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (rc >= 0) close(rc);
  }
  saved = errno;
  close(dir_fd);
  if (rc < 0 && saved != EEXIST) throw SetupError{step, saved};
  fd = resolve(root_fd, path, options.no_symlinks);
  if (fd < 0) throw SetupError{step, errno};
  return fd;
}

}  // namespace tsc
