#include "addon/path_in_container.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/syscalls.h"

namespace tsc {

int open_container_root(const std::string& root) {
  int fd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw ContainerPathError{errno, "open root " + root};
  return fd;
}

int open_in_container(int root_fd, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string relative = path.empty() ? "." : path;
  int fd;
  do {
    fd = sys_openat2(root_fd, relative.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0) throw ContainerPathError{errno, "open " + path};
  return fd;
}

int open_parent_in_container(int root_fd, const std::string& path, std::string* name) {
  std::string trimmed = path;
  // "a/b/" names b itself; "/" (or "") is the root, which has no parent to open it from.
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string parent = slash == std::string::npos ? std::string(".") : trimmed.substr(0, slash == 0 ? 1 : slash);
  *name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (*name == "/" ) name->clear();
  if (name->empty() || *name == "..") {
    name->clear();
    return open_in_container(root_fd, trimmed.empty() ? "/" : trimmed, O_PATH | O_DIRECTORY);
  }
  return open_in_container(root_fd, parent, O_PATH | O_DIRECTORY);
}

uint64_t to_container_id(const IdMap& map, uint64_t host) {
  if (map.empty()) return host;
  for (const IdRange& r : map) {
    if (host >= r.host_id && host - r.host_id < r.size) return r.container_id + (host - r.host_id);
  }
  return 65534;
}

bool to_host_id(const IdMap& map, uint64_t id, uint64_t* host) {
  if (map.empty()) {
    *host = id;
    return true;
  }
  for (const IdRange& r : map) {
    if (id >= r.container_id && id - r.container_id < r.size) {
      *host = r.host_id + (id - r.container_id);
      return true;
    }
  }
  return false;
}

}  // namespace tsc
