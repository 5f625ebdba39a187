// Messages with fds attached (SCM_RIGHTS), on a SOCK_SEQPACKET socket. control_channel.h's
// messages carry one fd; the setup server's requests carry a helper's every fd
// (common/setup_request.h) and a pool member's late spec the program's three stdio fds
// (helper/late_gate.h).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tsc {

// The most fds one message carries (the setup server's request: stdio, channel, join pidfd,
// owner fds).
constexpr size_t kMostPassedFds = 16;

// Sends one message with every fd of `fds` attached (at most kMostPassedFds). Returns 0 or -errno.
int send_message_with_fds(int socket_fd, const std::string& bytes, const std::vector<int>& fds);

// Receives one message and the fds attached to it (close-on-exec), at most kMostPassedFds;
// *sender is the pid of the process that sent it as this process sees it (-1 unless the socket
// passes credentials: pass_sender_pids), when sender is not null. flags: e.g. MSG_DONTWAIT.
// Returns the message length, 0 at end of stream, or -errno (-EMSGSIZE when the message was
// cut, -EMFILE when its fds could not all be installed: none of its fds is left open then).
long receive_message_with_fds(int socket_fd, std::string* bytes, std::vector<int>* fds, pid_t* sender = nullptr, int flags = 0);

}  // namespace tsc
