// Loading the container's seccomp program: the last step before exec, after
// no_new_privs, so that nothing of the setup runs under the filter.
#pragma once

#include "common/plan.h"

namespace tsc {

// Loads plan.seccomp_program if there is one. With notify, the kernel's
// listener fd is sent to Node over the control channel (fd 3) and closed here.
void load_seccomp(const Plan& plan);

}  // namespace tsc
