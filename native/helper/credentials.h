// Who the container process runs as: groups, gid, uid, then its capabilities
// and no_new_privs. The order matters: the bounding set is cut while
// CAP_SETPCAP is still held, and the uid changes last.
#pragma once

#include "common/plan.h"

namespace tsc {

void become_container_user(const Plan& plan);

}  // namespace tsc
