// Resolving a path inside a container's rootfs from the host, without ever
// following a symlink out of it: every lookup goes through openat2 with
// RESOLVE_IN_ROOT, so ".." and absolute symlinks stop at the rootfs.
#pragma once

#include <string>

namespace tsc {

enum class CreateAs { Nothing, Directory, File };

struct ResolveOptions {
  CreateAs create = CreateAs::Nothing;
  // Refuse any symlink on the way (for /proc, /sys and /dev, whose targets a
  // malicious rootfs could otherwise redirect).
  bool no_symlinks = false;
};

// Returns an O_PATH fd for `path` inside the tree rooted at root_fd, creating
// the missing parents (as directories) and the final component when asked.
// Throws SetupError{step, errno}.
int open_in_root(int root_fd, const std::string& path, const ResolveOptions& options, const std::string& step);

}  // namespace tsc
