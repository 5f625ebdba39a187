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

// When the container stops for good: DEL of every attachment (container_links)
// in its pinned namespace, then the pins go. Errors are left to the next
// network operation's sweep (the records stay for it, and go by it).
void release_networks(const Plan& plan);

// An attachment record and where its namespace is pinned.
struct NetworkLink {
  std::string record, pin;
};

// The container's attachments now, which a restart moves to the new namespace:
// the plan's, then those connect() added since (the container's records under
// plan.network_dir that the plan does not name, each pinned at
// <dir>/netns/<id>@<network>).
std::vector<NetworkLink> container_links(const Plan& plan);

// Before a restart: the addresses the links hold (to ask for again), then DEL
// and unpin, under the networks lock. One entry per link, "" when none was known.
std::vector<std::string> release_for_restart(const Plan& plan, const std::vector<NetworkLink>& links);

// After the restarted process exists (waiting at its start gate), under the
// networks lock: pin its namespace and ADD each link still recorded (a
// disconnect() meanwhile removed its record). A link that got another address
// than it had: the members' hosts files name the new one. False with `error`
// set when a plugin failed.
bool attach_networks(const Plan& plan, const std::vector<NetworkLink>& links, pid_t pid,
                     const std::vector<std::string>& addresses, std::string* error);

// Makes the start FIFO a restart waits at; "" when it could not.
std::string make_restart_gate(const Plan& plan);

// Lets the process waiting at `fifo` go (as start() does) and removes the FIFO.
void open_restart_gate(const std::string& fifo, int pidfd);

}  // namespace tsc
