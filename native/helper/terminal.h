// A pseudo-terminal for a container process, as `docker run -t` gives one: a
// pty pair of the container's own devpts instance. The process keeps the
// peer (slave) end as its controlling terminal and its stdin, stdout and
// stderr; the master end goes out to whoever drives the terminal (Node, or a
// detached container's monitor), and the process keeps no copy of it.
#pragma once

#include "common/plan.h"

namespace tsc {

// Runs in the container's process, once the container's /dev is in place
// and the process is a session leader without a controlling terminal, before
// it drops its capabilities (binding /dev/console needs CAP_SYS_ADMIN).
// Sends the master over send_fd as the message "terminal". Throws SetupError.
void attach_terminal(const Plan& plan, int send_fd);

}  // namespace tsc
