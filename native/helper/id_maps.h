// uid_map and gid_map of a process in a new user namespace, written by its
// parent (the helper), which holds the privilege in the outer namespace.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/plan.h"

namespace tsc {

void write_id_maps(pid_t pid, const std::vector<IdMap>& uid_map, const std::vector<IdMap>& gid_map);

}  // namespace tsc
