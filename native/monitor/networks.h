// A detached container's networks, as its monitor keeps them: DEL when the
// container stops for good; around each restart (a new network namespace),
// DEL of the old run and ADD of the new one, asking IPAM for the same address,
// before the program is let go at its start gate. The CNI protocol itself is
// common/cni_exec.h; the records are written by TypeScript (lib/networks/).
#pragma once

#include <string>
#include <vector>
#include <sys/types.h>

#include "common/plan.h"

namespace tsc {

// DEL of every attachment in its pinned namespace, then the pins go. Errors
// are left to the next network operation's sweep (the record stays for it).
void release_networks(const Plan& plan);

// Before a restart: the addresses the attachments hold (to ask for again),
// then DEL and unpin. One entry per attachment, "" when none was known.
std::vector<std::string> release_for_restart(const Plan& plan);

// After the restarted process exists (waiting at its start gate): pin its
// namespace and ADD. False with `error` set when a plugin failed.
bool attach_networks(const Plan& plan, pid_t pid, const std::vector<std::string>& addresses, std::string* error);

// Makes the start FIFO a restart waits at; "" when it could not.
std::string make_restart_gate(const Plan& plan);

// Lets the process waiting at `fifo` go (as start() does) and removes the FIFO.
void open_restart_gate(const std::string& fifo, int pidfd);

}  // namespace tsc
