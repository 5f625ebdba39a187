// /dev for a container: a small tmpfs with the standard character devices,
// a private devpts instance, /dev/shm, /dev/mqueue and the usual symlinks.
#pragma once

#include "helper/mount_api.h"

namespace tsc {

// Fills the fresh /dev tmpfs, through dev_mount_fd (the fd of that mount, which
// is already attached: nothing here looks /dev up by path again).
// in_user_namespace: the devpts gid is left unset (gid 5 may be unmapped
// there); console_target: an empty /dev/console is made for the process's
// terminal to be bound over.
// shm_options: the /dev/shm tmpfs's options, or nullptr when a mount of the caller's replaces it.
void populate_dev(int dev_mount_fd, bool in_user_namespace, bool console_target, const FsOptions* shm_options);

}  // namespace tsc
