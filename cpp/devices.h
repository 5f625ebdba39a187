// /dev for a container: a small tmpfs with the standard character devices,
// a private devpts instance, /dev/shm, /dev/mqueue and the usual symlinks.
#pragma once

namespace tsc {

// root_fd: the rootfs; in_user_namespace: device nodes are bind-mounted from
// the host's, since mknod is not allowed there.
void populate_dev(int root_fd, bool in_user_namespace);

}  // namespace tsc
