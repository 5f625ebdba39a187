// A worker's request as Node sent it to the setup server, kept until the worker names itself.
// A server killed while the request still waits unread in its queue takes the request down
// with it, and with it the worker's end of the control channel: Node's end then reads end of
// file (ECONNRESET when the plan was left unread there) before any worker named itself.
// Nothing of the container was made by then, so the spawn asks again, once, with the same fds
// and plan (helper_process.cc: await_helper), and the next server serves it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tsc {

struct RetainedRequest {
  std::string helper_path;
  // Close-on-exec copies of the request's fds but the channel's end: stdio 0-2, then the
  // join pidfd when has_join_pidfd, then the owner fds.
  std::vector<int> fds;
  bool has_join_pidfd = false;
  int owner_fd_count = 0;
};

// Keeps copies of `fds` for the request whose channel is Node's `control_fd`. Keeps nothing
// when the copies cannot be made (out of fds): the spawn then goes on without a second try.
void retain_request(int control_fd, const std::string& helper_path, const std::vector<int>& fds, bool has_join_pidfd,
                    int owner_fd_count);

// Takes the request kept for `control_fd`, if any: the caller owns its fds from then on.
std::optional<RetainedRequest> take_retained_request(int control_fd);

// Closes the copies of a request that will not be sent again.
void close_request_fds(RetainedRequest& request);

}  // namespace tsc
