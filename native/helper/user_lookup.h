// A user given by name ("bob", "bob:staff", "1000", "1000:50"), resolved the way docker
// resolves `--user`: in the container's own /etc/passwd and /etc/group, read through the
// container's root once it is in place (after pivot_root, or chroot for exec), never through
// the host's NSS. The process is still root and holds every capability when this runs.
#pragma once

#include "common/plan.h"

namespace tsc {

// Replaces plan->uid, gid and groups (and HOME in plan->env with plan->user_home) from
// plan->user_spec; does nothing when it is empty. An unknown name throws
// SetupError{..., ENOENT, StepId::ResolveUser}.
void resolve_user_spec(Plan* plan);

}  // namespace tsc
