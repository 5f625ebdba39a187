// Resource limits by name ("nofile"), mapped to RLIMIT_* from <sys/resource.h>.
#pragma once

#include <vector>

#include "common/plan.h"

namespace tsc {

void apply_rlimits(const std::vector<Rlimit>& limits);

}  // namespace tsc
