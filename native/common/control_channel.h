// The control channel between the addon and the helper: a SOCK_SEQPACKET
// socket pair. The addon sends the plan as one message; the helper answers
// with one report, carrying the new process's pidfd when it has one.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/fd_passing.h"
#include "common/generated/steps.h"

namespace tsc {

// The helper finds its end of the channel at this fd.
constexpr int kControlFd = 3;
// An exec helper finds the container's main pidfd here.
constexpr int kJoinPidfd = 4;
// Fds a detached container's monitor must keep start here; the helper's
// argv[1] says how many there are.
constexpr int kFirstOwnerFd = 5;
// Sent by the helper with an fd of a namespace Node holds until the process's exit is seen
// (helper/namespace_hold.h).
constexpr const char* kNamespaceHoldMessage = "namespace-hold";
// Sent by the helper before its report when its plan asks for the phase trace
// (helper/phase_marks.h): this prefix, then one "name<TAB>microseconds" line per mark.
constexpr const char* kPhaseMarksMessage = "phases ";

struct Report {
  bool ok = false;
  pid_t pid = -1;       // host pid of the new process (also on failure, when it was cloned)
  int err = 0;          // errno of the failed step
  StepId step_id = StepId::Unclassified;  // what the TypeScript side classifies by
  std::string step;     // the failed step as the user reads it, e.g. "mount /proc"
};

std::string encode_report(const Report& report);
bool decode_report(const std::string& text, Report* report);

// Sends one message, with fd_to_pass attached (SCM_RIGHTS) unless it is -1.
// Returns 0 or -errno.
int send_message(int socket_fd, const std::string& bytes, int fd_to_pass);


// Receives one message; *received_fd is the attached fd or -1. Returns the
// message length, 0 at end of stream, or -errno.
long receive_message(int socket_fd, std::string* bytes, int* received_fd);

// Has the kernel attach the sender's pid to every message received on this
// socket (SO_PASSCRED): a message is then known to come from the process that
// sent it, whoever else holds a copy of the other end. Returns 0 or -errno.
int pass_sender_pids(int socket_fd);

// receive_message, and *sender is the pid of the process that sent the message
// (as this process sees it; -1 without pass_sender_pids). flags: e.g. MSG_DONTWAIT.
long receive_message_from(int socket_fd, std::string* bytes, int* received_fd, pid_t* sender, int flags);

// A setup failure inside a cloned process, sent to the helper through a
// close-on-exec pipe: end of file without a message means exec succeeded.
void write_failure(int pipe_fd, int err, StepId step_id, const std::string& step);
// Returns true and fills *err, *step_id and *step when a failure was written.
bool read_failure(int pipe_fd, int* err, StepId* step_id, std::string* step);

}  // namespace tsc
