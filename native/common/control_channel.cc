#include "common/control_channel.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/fd_passing.h"

namespace tsc {

// A report is one line (protocol/report-steps.ts): "ok <pid>" or
// "error <pid> <errno> <step id> <step>".
std::string encode_report(const Report& report) {
  if (report.ok) return std::string(kReportOk) + " " + std::to_string(report.pid);
  return std::string(kReportError) + " " + std::to_string(report.pid) + " " + std::to_string(report.err) + " " +
         std::to_string(static_cast<int>(report.step_id)) + " " + report.step;
}

bool decode_report(const std::string& text, Report* report) {
  const std::string ok = std::string(kReportOk) + " ", error = std::string(kReportError) + " ";
  if (text.rfind(ok, 0) == 0) {
    report->ok = true;
    report->pid = static_cast<pid_t>(atoi(text.c_str() + ok.size()));
    return true;
  }
  if (text.rfind(error, 0) != 0) return false;
  const char* p = text.c_str() + error.size();
  char* end = nullptr;
  report->ok = false;
  report->pid = static_cast<pid_t>(strtol(p, &end, 10));
  if (*end != ' ') return false;
  report->err = static_cast<int>(strtol(end + 1, &end, 10));
  if (*end != ' ') return false;
  report->step_id = static_cast<StepId>(strtol(end + 1, &end, 10));
  if (*end != ' ') return false;
  report->step = std::string(end + 1);
  return true;
}

int send_message(int socket_fd, const std::string& bytes, int fd_to_pass) {
  return send_message_with_fds(socket_fd, bytes, fd_to_pass >= 0 ? std::vector<int>{fd_to_pass} : std::vector<int>{});
}

int pass_sender_pids(int socket_fd) {
  int on = 1;
  return setsockopt(socket_fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0 ? 0 : -errno;
}

long receive_message_from(int socket_fd, std::string* bytes, int* received_fd, pid_t* sender, int flags) {
  std::vector<int> fds;
  long n = receive_message_with_fds(socket_fd, bytes, &fds, sender, flags);
  // One fd is the protocol; any more are closed.
  *received_fd = fds.empty() ? -1 : fds[0];
  for (size_t i = 1; i < fds.size(); i++) close(fds[i]);
  return n;
}

long receive_message(int socket_fd, std::string* bytes, int* received_fd) {
  return receive_message_from(socket_fd, bytes, received_fd, nullptr, 0);
}

// "<errno> <step id> <step>".
void write_failure(int pipe_fd, int err, StepId step_id, const std::string& step) {
  std::string message = std::to_string(err) + " " + std::to_string(static_cast<int>(step_id)) + " " + step;
  // One write below PIPE_BUF is atomic; a longer step name is cut.
  if (message.size() > 4000) message.resize(4000);
  ssize_t ignored = write(pipe_fd, message.data(), message.size());
  (void)ignored;
}

bool read_failure(int pipe_fd, int* err, StepId* step_id, std::string* step) {
  std::string message;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(pipe_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    message.append(buffer, static_cast<size_t>(n));
  }
  if (message.empty()) return false;
  char* end = nullptr;
  *err = static_cast<int>(strtol(message.c_str(), &end, 10));
  *step_id = StepId::Unclassified;
  if (end && *end == ' ') *step_id = static_cast<StepId>(strtol(end + 1, &end, 10));
  *step = (end && *end == ' ') ? std::string(end + 1) : std::string("setup");
  return true;
}

}  // namespace tsc
