#include "common/setup_request.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/control_channel.h"

namespace tsc {

// "launch <join pidfd: 0|1> <owner fd count> <stop after clone: 0|1>".
int send_setup_request(int socket_fd, const SetupRequest& request) {
  std::string text = "launch " + std::to_string(request.has_join_pidfd ? 1 : 0) + " " + std::to_string(request.owner_fd_count) +
                     " " + std::to_string(request.stop_after_clone ? 1 : 0);
  return send_message_with_fds(socket_fd, text, request.fds);
}

long receive_setup_request(int socket_fd, SetupRequest* request) {
  std::string text;
  long n = receive_message_with_fds(socket_fd, &text, &request->fds, nullptr, 0);
  if (n <= 0) return n;
  int join = -1, owners = -1, stop = -1;
  size_t expected = 0;
  bool valid = sscanf(text.c_str(), "launch %d %d %d", &join, &owners, &stop) == 3 && (join == 0 || join == 1) &&
               owners >= 0 && owners <= kMaxOwnerFds && (stop == 0 || stop == 1);
  if (valid) expected = 4 + static_cast<size_t>(join) + static_cast<size_t>(owners);
  if (!valid || request->fds.size() != expected) {
    for (int fd : request->fds) close(fd);
    request->fds.clear();
    return -EPROTO;
  }
  request->has_join_pidfd = join == 1;
  request->owner_fd_count = owners;
  request->stop_after_clone = stop == 1;
  return n;
}

}  // namespace tsc
