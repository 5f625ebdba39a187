// The last step of every container process: its environment, no fd but
// stdio left open, then execve of the user's program.
#pragma once

#include "plan.h"

namespace tsc {

// Returns only by throwing SetupError{"exec", errno}.
[[noreturn]] void exec_program(const Plan& plan);

}  // namespace tsc
