// The setup server on Node's side: the helper process started once per Node
// process (lazily, at the first container or exec), asked for one worker per
// container or exec (see helper/setup_server.h). Restarted when it has died.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tsc {

// Asks the server to clone a worker that finds `fds` laid out as a one-shot helper does
// (stdio 0-2, control channel, join pidfd when has_join_pidfd, then the owner fds), and
// returns at once with the server's pid, without waiting for the clone: the worker names
// itself on the control channel (kWorkerNamedMessage), where the caller has queued its
// plan already; it is Node's child and takes a process group of its own. The caller keeps
// its fds. Throws SetupError. Safe to call from any thread. With stop_after_clone (a test
// hook), the server stops itself with SIGSTOP once it has cloned the worker.
pid_t request_worker(const std::string& helper_path, const std::vector<int>& fds, bool has_join_pidfd, int owner_fd_count,
                     bool stop_after_clone);

// Lets go of the server `pid` (killed if it still runs, and reaped) when it is still the one
// in use, so that the next request starts a new one: a request it took went with it, and a
// server that is being killed may still take the next one into its queue and lose it too.
// Safe to call from any thread.
void retire_server(pid_t pid);

// Whether the test hook asks the server to stop after its next clone. Reads the
// environment: called on JavaScript's thread only, which alone changes it.
bool server_stop_after_clone_requested();

// The running server's pid, or -1 before the first launch (for tests).
pid_t helper_server_pid();

}  // namespace tsc
