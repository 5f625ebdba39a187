// /dev for a container: a small tmpfs with the standard character devices,
// a private devpts instance, /dev/shm, /dev/mqueue and the usual symlinks.
#pragma once

#include "mount_api.h"

namespace tsc {

// root_fd: the rootfs; in_user_namespace: the devpts gid is left unset (gid 5
// may be unmapped there); console_target: an empty /dev/console is made for
// the process's terminal to be bound over.
// shm_options: the /dev/shm tmpfs's options, or nullptr when a mount of the caller's replaces it.
void populate_dev(int root_fd, bool in_user_namespace, bool console_target, const FsOptions* shm_options);

}  // namespace tsc
