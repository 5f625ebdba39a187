// Paths inside a container's root, as the host opens them for a copy in or out: the root is
// a directory the host names (/proc/PID/root of the container's first process, which the
// kernel resolves to that process's root in its own mount namespace, or a rootfs directory),
// and every path under it is resolved by openat2(RESOLVE_IN_ROOT): an absolute symlink or a
// ".." stops at the container's root, exactly as the container itself would see the path, so
// that a link the container plants (or swaps in while the copy runs) never leads the host out.
// No code of the container is run or loaded on the way (the copy is the host's own).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tsc {

// A failed resolution: the errno and the step ("open root /proc/42/root", "resolve /etc").
struct ContainerPathError {
  int err;
  std::string what;
};

// The directory fd of `root` (O_PATH; a /proc/PID/root magic link is followed: that is the point).
int open_container_root(const std::string& root);

// `path` (absolute or not: both are taken from the container's root) opened under root_fd
// with `flags`, following the container's symlinks inside it but never a /proc magic link.
// Throws ContainerPathError.
int open_in_container(int root_fd, const std::string& path, int flags);

// The directory that holds the last component of `path` (opened O_PATH under root_fd) and that
// component ("" when `path` is the root itself, "." when it ends in "/."). Throws ContainerPathError.
int open_parent_in_container(int root_fd, const std::string& path, std::string* name);

// A user namespace's id map: the host ids its files have on disk, and the ids the container
// calls them by.
struct IdRange {
  uint64_t container_id, host_id, size;
};
using IdMap = std::vector<IdRange>;

// The container's id of a host id; one outside the map is the kernel's overflow id (nobody).
uint64_t to_container_id(const IdMap& map, uint64_t host);

// The host id of a container id; false when the container's namespace does not map it.
bool to_host_id(const IdMap& map, uint64_t id, uint64_t* host);

}  // namespace tsc
