// Mounting through the kernel's fd-based mount API (fsopen/fsmount,
// open_tree/move_mount, mount_setattr): a mount is made detached, then
// attached onto an fd that was resolved inside the rootfs, so nothing can
// swap the target between the check and the mount.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "helper/path_in_root.h"

namespace tsc {

using FsOptions = std::vector<std::pair<std::string, std::string>>;

// A new detached filesystem instance (tmpfs, proc, sysfs, devpts, mqueue).
// attr_flags are MOUNT_ATTR_* (RDONLY, NOSUID, NODEV, NOEXEC).
int make_filesystem(const std::string& fstype, const FsOptions& options, unsigned attr_flags,
                    const std::string& step);

// A detached copy of the tree at `path` (or at `fd` when path is empty).
int clone_tree(int dir_fd, const std::string& path, bool recursive, const std::string& step);

// Sets (or clears) MOUNT_ATTR_* flags on the mount at fd.
void set_mount_attrs(int mount_fd, unsigned set_flags, unsigned clear_flags, bool recursive,
                     const std::string& step);

// Attaches the detached mount `mount_fd` on top of `target_fd`, then closes both.
void attach_mount(int mount_fd, int target_fd, const std::string& step);

// Resolves `target` inside the rootfs (creating it as asked) and attaches
// mount_fd there; closes mount_fd whatever happens.
void attach_in_root(int mount_fd, int root_fd, const std::string& target, const ResolveOptions& resolve,
                    const std::string& step);

// As attach_in_root, but keeps the mount: returns a new fd of it (after
// move_mount the fd still names the same mount, now attached), so that later
// steps work inside this very mount rather than whatever the path names then.
int attach_in_root_kept(int mount_fd, int root_fd, const std::string& target, const ResolveOptions& resolve,
                        const std::string& step);

}  // namespace tsc
