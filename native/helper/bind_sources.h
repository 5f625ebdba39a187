// The caller's bind mounts, prepared by the helper before it clones the
// container's process: each source is cloned as a detached tree in the host's
// mount namespace (so no path the container controls is involved), and, when
// the container has a user namespace, idmapped through it once its id maps
// are written: container root then acts on the tree as the caller's root
// would (a file it creates belongs to host root, a writable bind stays
// writable). Idmapping needs privilege over the filesystem in the initial
// user namespace, which only the helper has; the child attaches the trees.
#pragma once

#include <sys/types.h>

#include "common/plan.h"

namespace tsc {

// Fills plan.bind_tree_fds: one detached tree per mount (-1 for a tmpfs).
void prepare_bind_sources(Plan& plan);

// Idmaps every prepared tree through the user namespace of process `pid`.
void idmap_bind_sources(const Plan& plan, pid_t pid);

// Closes the helper's copies (the cloned child holds its own).
void close_bind_sources(Plan& plan);

}  // namespace tsc
