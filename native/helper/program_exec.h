// The last step of every container process: its environment, no fd but
// stdio left open, then execve of the user's program.
#pragma once

#include <string>

#include "common/plan.h"

namespace tsc {

// The program's path: argv[0] when it has a '/', else the first executable
// file of that name on the container's PATH. Throws SetupError{"exec", ENOENT
// or EACCES}, so create() can refuse a missing program before start().
std::string resolve_program(const Plan& plan);

// Returns only by throwing SetupError{"exec", errno}.
[[noreturn]] void exec_program(const Plan& plan);

}  // namespace tsc
