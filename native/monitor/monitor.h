// The monitor of a detached container: the helper, forked away from Node into
// a session of its own, stays outside the container (as conmon does). It is
// the parent of the container's first process, so it reaps it; it appends the
// program's output to the log file, records each start and exit in run.json,
// and restarts the container as its restart policy says, with a back-off.
#pragma once

#include "common/control_channel.h"
#include "common/plan.h"
#include "monitor/health_check.h"

namespace tsc {

// Starts the container's first process; returns its pidfd (report says how it went).
using StartContainer = int (*)(Plan& plan, Report* report);

// In the helper: forks the monitor and returns in the helper at once (which
// then exits: Node reaps it). The monitor starts the container, sends Node
// the report over the control channel, and watches the container until it
// stops for good; it never returns. It runs the container's health checks with
// start_exec, as an exec() into it would.
void fork_monitor(Plan& plan, StartContainer start, StartExec start_exec);

}  // namespace tsc
