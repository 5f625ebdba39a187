// The setup server's protocol (helper/setup_server.h): Node asks the helper
// process it started once to clone a worker for one container or exec. One
// request carries the fds the worker finds at fixed numbers (stdio, the
// per-container control channel, the join pidfd, owner fds). The server does
// not answer on its own channel: Node has queued the plan on the control
// channel before the request, the worker's first message there names it
// (kWorkerNamedMessage, with its pid as the sender), and a worker the server
// could not clone is reported there by the server, as a helper's failed report.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tsc {

// argv[1] of a helper started as the setup server.
constexpr const char* kSetupServerArg = "server";
// The server finds its channel to Node here (and nothing else but stdio on /dev/null).
constexpr int kSetupServerFd = 3;
// At most this many owner fds (kFirstOwnerFd and up) go with one request.
constexpr int kMaxOwnerFds = 8;
// A worker of the server finds here, when the server had one, a network namespace the
// server made ahead for it (helper/network_namespace_maker.h). Above every owner fd.
constexpr int kPremadeNetworkFd = 13;

struct SetupRequest {
  bool has_join_pidfd = false;
  int owner_fd_count = 0;
  // A test hook: the server stops itself (SIGSTOP) once it has cloned this request's
  // worker, so that a test can kill it at exactly that point.
  bool stop_after_clone = false;
  // In order: stdio 0-2, the control channel's helper end, the join pidfd
  // (when has_join_pidfd), then the owner fds.
  std::vector<int> fds;
};

// A worker's first message on its control channel, before it reads its plan or clones
// anything: Node takes the sender's pid (SCM_CREDENTIALS) as the worker's.
constexpr const char* kWorkerNamedMessage = "worker";

// One message. Returns 0 or -errno.
int send_setup_request(int socket_fd, const SetupRequest& request);

// Receive one request: its fds arrive close-on-exec. Returns the message
// length, 0 at end of stream, or -errno (-EPROTO for a malformed request,
// whose fds are closed).
long receive_setup_request(int socket_fd, SetupRequest* request);

}  // namespace tsc
