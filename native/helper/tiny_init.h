// A tiny init for PID 1: starts the program as its child, forwards every
// signal it gets to it, reaps every orphan, and exits with the program's
// status (128+n when a signal n ended it, as a shell reports).
#pragma once

#include "common/plan.h"

namespace tsc {

[[noreturn]] void run_as_init(const Plan& plan, int failure_fd);

}  // namespace tsc
