// A rootfs overlay for a container with a user namespace, made by the helper (host root)
// rather than by the container's root: each lower layer is cloned as a detached tree and
// idmapped through the container's user namespace, so that a file an image stores as
// owned by 0 is owned by container root inside (not by nobody, as an unmapped host id
// shows), and the overlay over those trees is mounted in the initial user namespace, as a
// rootful engine mounts it: overlayfs keeps its whiteouts and opaque marks in trusted.*,
// where the layer store wrote them. The upper layer is not idmapped: what the container
// writes lands there owned by its host ids (container root's is the upper layer's owner).
// A read-only rootfs directory is mounted so too (over an empty bottom layer): a writable one
// (rootfsOverlay: false) is not idmapped, so that container root writes there as its own host
// ids, never as the directory's owners. Idmapping needs privilege over the layers' filesystem
// in the initial user namespace; a helper without it leaves the overlay to the container's
// root, as before.
#pragma once

#include <sys/types.h>

#include "common/plan.h"

namespace tsc {

// Whether the helper makes the container's rootfs overlay over idmapped layers: a mount and
// a user namespace, lower layers or a read-only rootfs directory, and a helper with
// CAP_SYS_ADMIN on the host.
bool wants_idmapped_rootfs(const Plan& plan);

// In the helper, once the id maps of process `pid` are written: the detached overlay mount.
int make_idmapped_rootfs(const Plan& plan, pid_t pid);

// The message that carries the overlay's fd to the container's first process.
constexpr const char* kIdmappedRootfsMessage = "rootfs-overlay";

}  // namespace tsc
