// Starting a helper for one container or exec from Node without forking Node:
// a worker of the setup server (helper_server.h), with the program's stdio on
// fds 0-2, the control channel on fd 3 and the pidfd of the container to join
// on fd 4, given its plan; then awaiting its report.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/control_channel.h"

namespace tsc {

struct LaunchedHelper {
  pid_t server_pid = -1;  // the setup server asked for the worker (-1: none was asked)
  int control_fd = -1;    // Node's end, close-on-exec
  int send_error = 0;     // errno of a plan that could not be sent (the worker then exits unreported)
  std::string plan;       // as sent, for a request that must be sent again (retained_request.h)
};

// Asks the setup server for a worker that will read its plan from the returned helper's
// channel (send_plan), before the plan exists: the clone and the worker's start overlap
// what Node still does to make the plan. Throws SetupError. Copies of the fds are kept until
// the worker names itself (retained_request.h), so that await_helper can ask again. A
// reservation whose plan never comes is let go by shutting down its channel (the worker then
// exits) and awaiting it.
LaunchedHelper reserve_helper(const std::string& helper_path, const int stdio_fds[3], int join_pidfd,
                              const std::vector<int>& owner_fds);

// Sends the worker its plan; a plan too big to send is recorded in send_error (the worker
// gets end of file, and await_helper reports E2BIG).
void send_plan(LaunchedHelper* helper, std::string plan);

// Returns the launched helper, or throws SetupError for a failure to start it.
// stdio_fds are duplicated; the caller keeps ownership of them. owner_fds
// (flocks a detached container's monitor must hold) land at kFirstOwnerFd and
// up, in order.
LaunchedHelper launch_helper(const std::string& helper_path, std::string plan, const int stdio_fds[3],
                             int join_pidfd, const std::vector<int>& owner_fds);

struct HelperOutcome {
  Report report;
  int pidfd = -1;  // of the cloned process when it runs (on failure it is reaped and closed)
  int terminal_fd = -1;  // the master of its terminal, when it has one (closed on failure)
  int channel_fd = -1;   // the control channel, kept open on request (see await_helper)
  std::vector<int> held_namespace_fds;  // namespaces Node holds until the exit is seen (closed on failure)
  std::string phase_marks;  // the helper's marks, when its plan asked for the phase trace
};

// Blocks until the helper reports, reaps the helper and, when the cloned
// process failed before exec, reaps that too. Runs on a worker thread. The
// helper is the worker that named itself first on the channel.
// A seccomp listener that arrives first goes to on_listener at once: the
// program's own execve may already wait for an answer from it.
// A terminal master that arrives first is kept in the outcome.
// With keep_channel, a successful outcome keeps the control channel open
// (channel_fd): a detached container's monitor waits on it for the maker to
// say the container is made, and kills it if the maker dies first.
HelperOutcome await_helper(LaunchedHelper helper, const std::function<void(int)>& on_listener, bool keep_channel);

// Kills and reaps the children of this (Node) process in the process group `group`
// (a helper's or the setup server's pid) other than its leader: processes cloned
// as Node's children whose pid Node never heard of. Called while the leader or a
// member of the group is not yet reaped, so that the group's id cannot have been reused.
void reap_unnamed_children(pid_t group);

// Reaps the children of this process in the setup server's process group `server` that have
// died: workers that died before they named themselves. Live ones are left alone (each names
// itself). With wait_for_one, waits a little while for one to die, for a caller whose channel
// ended unnamed: the worker's fds close before it becomes a zombie.
void reap_dead_unnamed_workers(pid_t server, bool wait_for_one);

}  // namespace tsc
