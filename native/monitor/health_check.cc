#include "monitor/health_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/generated/state_files.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "monitor/run_record.h"

namespace tsc {

namespace {

// While a created container waits for start(), how often the monitor looks whether it started.
constexpr int kStartedPollMs = 100;

void close_fd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Moves an fd above the low numbers the child sets up (stdio, the control fd), close-on-exec.
int above_control_fd(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, kControlFd + 1); }

// In the forked child: does what the one-shot helper does for exec(), with the check's
// output on stdout and stderr and the monitor at the other end of the control channel;
// the process it clones is the monitor's child (CLONE_PARENT).
[[noreturn]] void run_check_child(Plan plan, StartExec start_exec, int main_pidfd, int output_fd, int channel_fd) {
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pidfd = above_control_fd(main_pidfd);
  int output = above_control_fd(output_fd);
  int channel = above_control_fd(channel_fd);
  if (null_fd < 0 || pidfd < 0 || output < 0 || channel < 0) _exit(1);
  dup2(null_fd, 0);
  dup2(output, 1);
  dup2(output, 2);
  dup2(channel, kControlFd);
  dup2(pidfd, kJoinPidfd);
  // As the one-shot helper starts: nothing of the monitor's (its log, the container's output
  // pipes, the owner locks) reaches the process cloned into the container, even before its exec.
  sys_close_range(kJoinPidfd + 1, ~0U, 0);
  plan.join_pidfd = kJoinPidfd;
  Report report;
  int exec_pidfd = -1;
  try {
    exec_pidfd = start_exec(plan, &report);
  } catch (const SetupError& e) {
    report.ok = false;
    report.err = e.err;
    report.step_id = e.id;
    report.step = e.step;
  }
  send_message(kControlFd, encode_report(report), report.ok ? exec_pidfd : -1);
  _exit(0);
}

std::string result_json(long long start, long long end, int exit_code, const std::string& output) {
  return "{\"start\":" + std::to_string(start) + ",\"end\":" + std::to_string(end) + ",\"exitCode\":" +
         std::to_string(exit_code) + ",\"output\":" + json_string(output) + "}";
}

}  // namespace

HealthChecker::HealthChecker(const Plan& run_plan, StartExec start_exec)
    : start_exec_(start_exec),
      state_dir_(run_plan.state_dir),
      cgroup_dirs_(run_plan.cgroup_dirs),
      interval_ms_(run_plan.health.interval_ms),
      timeout_ms_(run_plan.health.timeout_ms),
      retries_(std::max(1u, run_plan.health.retries)),
      start_period_ms_(run_plan.health.start_period_ms) {
  if (run_plan.health.exec_plan.empty()) return;
  try {
    exec_plan_ = parse_plan(run_plan.health.exec_plan);
    enabled_ = exec_plan_.mode == PlanMode::Exec;
  } catch (const SetupError&) {
    // The TypeScript side made this plan: a bad one means no checks, never a dead monitor.
    enabled_ = false;
  }
}

void HealthChecker::begin_run(pid_t main_pid, int main_pidfd, bool wait_for_start) {
  if (!enabled_) return;
  end_run();
  running_ = true;
  main_pid_ = main_pid;
  main_pidfd_ = main_pidfd;
  // Each run is judged afresh, as docker does at each start.
  status_ = "starting";
  failing_streak_ = 0;
  log_.clear();
  waiting_for_start_ = wait_for_start;
  run_started_ms_ = now_ms();
  next_check_ms_ = run_started_ms_ + interval_ms_;
  write_record();
}

void HealthChecker::end_run() {
  if (check_pidfd_ >= 0) {
    kill_check();
    close_fd(&output_fd_);
  }
  running_ = false;
  main_pidfd_ = -1;
}

void HealthChecker::kill_check() {
  sys_pidfd_send_signal(check_pidfd_, SIGKILL, 0);
  killed_pidfds_.push_back(check_pidfd_);
  check_pidfd_ = -1;
  reap_killed();
}

void HealthChecker::reap_killed() {
  for (size_t i = 0; i < killed_pidfds_.size();) {
    siginfo_t info = {};
    int rc;
    do {
      rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(killed_pidfds_[i]), &info, WEXITED | WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) {
      i++;
      continue;
    }
    close(killed_pidfds_[i]);
    killed_pidfds_.erase(killed_pidfds_.begin() + static_cast<long>(i));
  }
}

// v1's freezer.state or v2's cgroup.freeze of the container's cgroups: paused.
bool HealthChecker::container_frozen() const {
  for (const auto& dir : cgroup_dirs_) {
    for (const char* name : {"freezer.state", "cgroup.freeze"}) {
      int fd = open((dir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      char buffer[16] = {};
      ssize_t n = read(fd, buffer, sizeof buffer - 1);
      close(fd);
      if (n > 0 && (strncmp(buffer, "FROZEN", 6) == 0 || strncmp(buffer, "FREEZING", 8) == 0 || buffer[0] == '1')) return true;
    }
  }
  return false;
}

int HealthChecker::poll_timeout_ms() const {
  if (!enabled_ || !running_) return -1;
  long long now = now_ms();
  if (check_pidfd_ >= 0) return static_cast<int>(std::max(0LL, check_started_ms_ + timeout_ms_ - now));
  if (waiting_for_start_) return kStartedPollMs;
  return static_cast<int>(std::clamp(next_check_ms_ - now, 0LL, 1LL << 30));
}

void HealthChecker::add_poll_fds(struct pollfd* fds, int* count) const {
  if (output_fd_ >= 0) fds[(*count)++] = {output_fd_, POLLIN, 0};
  if (check_pidfd_ >= 0) fds[(*count)++] = {check_pidfd_, POLLIN, 0};
}

void HealthChecker::read_output(bool to_end) {
  char buffer[4096];
  while (output_fd_ >= 0) {
    ssize_t n = read(output_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // End of file, or nothing more for now (EAGAIN); what a leftover process holds is not waited for.
      if (n == 0 || to_end) close_fd(&output_fd_);
      return;
    }
    size_t room = kHealthOutputMax > output_.size() ? kHealthOutputMax - output_.size() : 0;
    output_.append(buffer, std::min(room, static_cast<size_t>(n)));
    if (!to_end) return;
  }
}

void HealthChecker::service(const struct pollfd* fds, int count) {
  if (!enabled_) return;
  reap_killed();
  if (!running_) return;
  for (int i = 0; i < count; i++) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == output_fd_) read_output(false);
  }
  for (int i = 0; i < count; i++) {
    if (fds[i].revents == 0 || fds[i].fd != check_pidfd_ || check_pidfd_ < 0) continue;
    siginfo_t info = {};
    int rc;
    do {
      rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(check_pidfd_), &info, WEXITED | WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) continue;
    read_output(true);
    finish_check(rc == 0 && info.si_code == CLD_EXITED ? info.si_status : -1, "");
  }
  long long now = now_ms();
  if (check_pidfd_ >= 0 && now >= check_started_ms_ + timeout_ms_) {
    kill_check();
    finish_check(-1, "Health check exceeded timeout (" + std::to_string(timeout_ms_) + "ms)");
    return;
  }
  if (check_pidfd_ >= 0) return;
  if (waiting_for_start_) {
    struct stat st;
    if (stat((state_dir_ + "/" + kStateFileStarted).c_str(), &st) != 0) return;
    waiting_for_start_ = false;
    run_started_ms_ = now;
    next_check_ms_ = now + interval_ms_;
    return;
  }
  if (now < next_check_ms_) return;
  // A paused container cannot run a check (it would hang until resumed): the next interval will.
  if (container_frozen()) {
    next_check_ms_ = now + interval_ms_;
    return;
  }
  start_check();
}

void HealthChecker::start_check() {
  check_started_ms_ = now_ms();
  output_.clear();
  int output[2] = {-1, -1}, channel[2] = {-1, -1};
  if (pipe2(output, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) < 0) {
    int saved = errno;
    close_fd(&output[0]);
    close_fd(&output[1]);
    finish_check(-1, std::string("start the health check: ") + strerror(saved));
    return;
  }
  Plan plan = exec_plan_;
  plan.join_pid = main_pid_;
  pid_t child = fork();
  if (child == 0) run_check_child(plan, start_exec_, main_pidfd_, output[1], channel[1]);
  close(output[1]);
  close(channel[1]);
  output_fd_ = output[0];
  if (child < 0) {
    int saved = errno;
    close(channel[0]);
    close_fd(&output_fd_);
    finish_check(-1, std::string("fork the health check: ") + strerror(saved));
    return;
  }
  // The child reports within a few milliseconds (it only joins the container and clones);
  // the check's timeout bounds the wait should it hang.
  Report report;
  bool reported = false;
  int exec_pidfd = -1;
  for (;;) {
    long long left = check_started_ms_ + timeout_ms_ - now_ms();
    if (left <= 0) break;
    struct pollfd p = {channel[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    std::string message;
    int fd = -1;
    if (receive_message(channel[0], &message, &fd) <= 0) break;
    // "cloned" comes first with the process's pidfd: it must be reaped even if setup fails later.
    if (message == "cloned" && exec_pidfd < 0) {
      exec_pidfd = fd;
      continue;
    }
    if (fd >= 0 && exec_pidfd < 0) exec_pidfd = fd;
    else if (fd >= 0) close(fd);
    reported = decode_report(message, &report);
    if (reported) break;
  }
  close(channel[0]);
  if (!reported) kill(child, SIGKILL);
  while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!reported || !report.ok) {
    if (exec_pidfd >= 0) {
      check_pidfd_ = exec_pidfd;
      kill_check();
    }
    close_fd(&output_fd_);
    finish_check(-1, reported ? "start the health check: " + report.step + ": " + strerror(report.err)
                              : std::string("start the health check: no report within the timeout"));
    return;
  }
  check_pidfd_ = exec_pidfd;
  fcntl(output_fd_, F_SETFL, fcntl(output_fd_, F_GETFL) | O_NONBLOCK);
}

void HealthChecker::finish_check(int exit_code, const std::string& output_override) {
  close_fd(&output_fd_);
  close_fd(&check_pidfd_);
  Result result;
  result.start_ms = check_started_ms_;
  result.end_ms = now_ms();
  result.exit_code = exit_code;
  result.output = output_override.empty() ? output_ : output_override;
  output_.clear();
  apply(result);
  next_check_ms_ = result.end_ms + interval_ms_;
}

void HealthChecker::apply(const Result& result) {
  log_.push_back(result);
  while (log_.size() > kHealthLogSize) log_.pop_front();
  if (result.exit_code == 0) {
    status_ = "healthy";
    failing_streak_ = 0;
  } else {
    bool in_start_period = result.start_ms - run_started_ms_ < static_cast<long long>(start_period_ms_);
    if (!in_start_period || status_ == "healthy") {
      failing_streak_++;
      if (failing_streak_ >= retries_) status_ = "unhealthy";
    }
  }
  write_record();
}

void HealthChecker::write_record() const {
  std::string json = "{\"status\":" + json_string(status_) + ",\"failingStreak\":" + std::to_string(failing_streak_) + ",\"log\":[";
  for (size_t i = 0; i < log_.size(); i++) {
    if (i > 0) json += ",";
    json += result_json(log_[i].start_ms, log_[i].end_ms, log_[i].exit_code, log_[i].output);
  }
  write_state_file(state_dir_, kStateFileHealth, json + "]}\n");
}

}  // namespace tsc
