#include "monitor/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "common/generated/state_files.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/test_pause.h"
#include "monitor/auto_remove.h"
#include "monitor/health_check.h"
#include "monitor/log_writer.h"
#include "monitor/networks.h"
#include "monitor/run_record.h"

namespace tsc {

namespace {

// Restarts wait 100 ms, then twice as long each time, at most this long; a run
// that lasted kSteadyRunMs starts the doubling over (as Docker does).
constexpr long long kFirstBackoffMs = 100;
constexpr long long kMaxBackoffMs = 30000;
constexpr long long kSteadyRunMs = 10000;
// After the first process exits, its output pipes are read until end of file,
// but no longer than this (a process that escaped the PID namespace could hold them).
constexpr int kDrainMs = 500;

// Where one run's output comes from: pipes for stdout and stderr, or a terminal.
struct OutputSources {
  int out = -1;
  int err = -1;
  int terminal = -1;
};

void close_fd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Reads what is there; returns false at end of file (or EIO: a terminal whose
// last user closed it).
bool copy_to_log(int fd, LogWriter& log, const char* stream) {
  char buffer[65536];
  ssize_t n;
  do {
    n = read(fd, buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return true;
  if (n <= 0) return false;
  log.append(stream, buffer, static_cast<size_t>(n));
  return true;
}

// Makes fds 1 and 2 the write ends of two new pipes (the next process cloned
// inherits them as its stdout and stderr) and returns the read ends.
OutputSources connect_output() {
  OutputSources sources;
  int out[2], err[2];
  check(pipe2(out, O_CLOEXEC), "create the output pipes");
  if (pipe2(err, O_CLOEXEC) < 0) {
    int saved = errno;
    close(out[0]);
    close(out[1]);
    throw SetupError{"create the output pipes", saved};
  }
  dup2(out[1], 1);
  dup2(err[1], 2);
  close(out[1]);
  close(err[1]);
  sources.out = out[0];
  sources.err = err[0];
  return sources;
}

// Once the process holds its own copies, the monitor lets go of the write
// ends, so that the pipes end when the container's processes are gone.
void disconnect_output(int null_fd) {
  dup2(null_fd, 1);
  dup2(null_fd, 2);
}

struct Exit {
  bool exited_normally = false;
  int code = 0;
  int signal = 0;
  // Its maker died before it said the container was made: killed, never restarted.
  bool abandoned = false;
};

// The maker's word on the channel: "committed" once the container is recorded as
// made. End of file before that means the maker died while making it, and what
// it was making must not live on as a container nobody made.
bool maker_committed(int* channel) {
  std::string message;
  int fd = -1;
  long n = receive_message(*channel, &message, &fd);
  if (fd >= 0) close(fd);
  close(*channel);
  *channel = -1;
  return n > 0 && message == "committed";
}

// Logs output until the container's first process exits, reaps it, then
// drains what its other processes wrote before the PID namespace ended. While
// *maker_channel is open, it also waits for the maker's commit. Health checks run
// meanwhile, until the first process exits.
Exit watch_run(int pidfd, OutputSources& sources, LogWriter& log, int* maker_channel, HealthChecker& health) {
  Exit result;
  bool exited = false;
  long long drain_deadline = 0;
  for (;;) {
    struct pollfd fds[7];
    const char* names[7];
    int* owners[7];
    int count = 0;
    auto add = [&](int* fd, const char* name) {
      if (*fd < 0) return;
      fds[count] = {*fd, POLLIN, 0};
      names[count] = name;
      owners[count] = fd;
      count++;
    };
    add(&sources.out, kLogStreamStdout);
    add(&sources.err, kLogStreamStderr);
    add(&sources.terminal, kLogStreamStdout);
    int first_output = 0;
    int output_count = count;
    int pidfd_index = count;
    if (!exited) fds[count++] = {pidfd, POLLIN, 0};
    int channel_index = -1;
    if (!exited && *maker_channel >= 0) {
      channel_index = count;
      fds[count++] = {*maker_channel, POLLIN, 0};
    }
    int health_index = count;
    if (!exited) health.add_poll_fds(fds, &count);
    if (exited && output_count == 0) break;
    int timeout = exited ? -1 : health.poll_timeout_ms();
    if (exited) {
      long long left = drain_deadline - now_ms();
      if (left <= 0) break;
      timeout = static_cast<int>(left);
    }
    int ready = poll(fds, static_cast<nfds_t>(count), timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (!exited) health.service(fds + health_index, ready > 0 ? count - health_index : 0);
    if (ready <= 0) {
      if (exited) break;
      continue;
    }
    for (int i = first_output; i < output_count; i++) {
      if (fds[i].revents == 0) continue;
      if (!copy_to_log(fds[i].fd, log, names[i])) close_fd(owners[i]);
    }
    if (!exited && channel_index >= 0 && fds[channel_index].revents != 0 && !maker_committed(maker_channel)) {
      result.abandoned = true;
      sys_pidfd_send_signal(pidfd, SIGKILL, 0);
    }
    if (!exited && (fds[pidfd_index].revents & POLLIN)) {
      siginfo_t info = {};
      int rc;
      do {
        rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
      } while (rc < 0 && errno == EINTR);
      if (rc == 0 && info.si_pid == 0) continue;
      exited = true;
      // No check into a container that has ended (its pidfd closes below).
      health.end_run();
      drain_deadline = now_ms() + kDrainMs;
      if (rc == 0 && info.si_code == CLD_EXITED) {
        result.exited_normally = true;
        result.code = info.si_status;
      } else if (rc == 0) {
        result.signal = info.si_status;
      }
    }
  }
  close_fd(&sources.out);
  close_fd(&sources.err);
  close_fd(&sources.terminal);
  close(pidfd);
  return result;
}

bool stop_requested(const Plan& plan) {
  struct stat st;
  // A state directory deleted under the container (by hand, then remove --force) means stop:
  // a restart would run a container nobody can find any more.
  if (stat(plan.state_dir.c_str(), &st) != 0) return true;
  return stat((plan.state_dir + "/" + kStateFileStopRequested).c_str(), &st) == 0;
}

bool should_restart(const Plan& plan, const Exit& exit, unsigned restarts) {
  if (stop_requested(plan)) return false;
  const std::string& policy = plan.restart_policy;
  if (policy == "always" || policy == "unless-stopped") return true;
  if (policy != "on-failure") return false;
  bool failed = !exit.exited_normally || exit.code != 0;
  return failed && (plan.restart_max == 0 || restarts < plan.restart_max);
}

// Sleeps the back-off; false when a stop was asked for meanwhile.
bool back_off(const Plan& plan, long long delay_ms) {
  long long until = now_ms() + delay_ms;
  for (;;) {
    if (stop_requested(plan)) return false;
    long long left = until - now_ms();
    if (left <= 0) return true;
    long long step = std::min(left, 50LL);
    struct timespec ts = {static_cast<time_t>(step / 1000), static_cast<long>((step % 1000) * 1000000)};
    nanosleep(&ts, nullptr);
  }
}

// The container's cgroups go with its last run: no process is left in them.
// Processes of the ended PID namespace may take a moment to leave.
// The primary directory (first in the plan) goes last, and only once every other has: while
// it is there no other maker takes the name. A directory once removed is never removed again:
// by the next attempt its name may be the next container's of the same id.
void remove_cgroups(const Plan& plan) {
  std::vector<std::string> left(plan.cgroup_dirs.rbegin(), plan.cgroup_dirs.rend());
  for (int attempt = 0; attempt < 100; attempt++) {
    size_t removed = 0;
    int failure = 0;
    for (; removed < left.size(); removed++) {
      if (rmdir(left[removed].c_str()) != 0 && errno != ENOENT) {
        failure = errno;
        break;
      }
    }
    left.erase(left.begin(), left.begin() + static_cast<std::ptrdiff_t>(removed));
    // Done, or a failure that waiting does not cure: what is left is the sweep's.
    if (left.empty() || failure != EBUSY) return;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

// A terminal's master, sent by the container's process (see helper/terminal.cc)
// over the socket the monitor put where it sends it.
int receive_terminal(int socket_fd) {
  std::string message;
  int fd = -1;
  long n = receive_message(socket_fd, &message, &fd);
  if (n > 0 && message == "terminal") return fd;
  if (fd >= 0) close(fd);
  return -1;
}

// One start of the container, its output going to pipes or a terminal that the monitor reads.
int start_run(Plan& plan, StartContainer start, int null_fd, Report* report, OutputSources* sources) {
  int terminal_socket[2] = {-1, -1};
  int node_channel = -1;
  *sources = OutputSources{};
  if (plan.tty) {
    // The process sends its terminal on the control fd: here, to the monitor.
    check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, terminal_socket), "create the terminal socket");
    node_channel = fcntl(kControlFd, F_DUPFD_CLOEXEC, 10);
    dup2(terminal_socket[1], kControlFd);
    close(terminal_socket[1]);
  } else {
    *sources = connect_output();
  }
  int pidfd = start(plan, report);
  disconnect_output(null_fd);
  if (plan.tty) {
    dup2(node_channel >= 0 ? node_channel : null_fd, kControlFd);
    if (node_channel >= 0) close(node_channel);
    if (report->ok) sources->terminal = receive_terminal(terminal_socket[0]);
    close(terminal_socket[0]);
  }
  return pidfd;
}

void kill_and_reap(int pidfd) {
  sys_pidfd_send_signal(pidfd, SIGKILL, 0);
  siginfo_t info;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
  }
  close(pidfd);
}

[[noreturn]] void monitor(Plan& plan, StartContainer start, StartExec start_exec) {
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  StateDirIdentity state_dir = state_dir_identity(plan);
  LogWriter log(plan.log_path, plan.log_max_size, plan.log_max_files);
  bool log_open = log.open();
  // The container's first process must not outlive its monitor.
  plan.parent_pidfd = sys_pidfd_open(getpid(), 0);
  Report report;
  OutputSources sources;
  int pidfd = -1;
  pause_for_test(plan, "monitor");
  try {
    if (null_fd < 0 || !log_open) throw SetupError{"open the log " + plan.log_path, errno};
    pidfd = start_run(plan, start, null_fd, &report, &sources);
  } catch (const SetupError& e) {
    report.ok = false;
    report.err = e.err;
    report.step_id = e.id;
    report.step = e.step;
  }
  RunRecord record;
  if (report.ok) {
    // Recorded before Node hears of the run: a reader that sees the container made then
    // also sees its monitor (alive, so more output may come), even when the program has
    // already exited and the monitor has yet to log what it wrote.
    record.monitor_pid = getpid();
    record.monitor_start_time = process_start_time(getpid());
    record.pid = report.pid;
    record.start_time = process_start_time(report.pid);
    // A created container starts when start() opens its FIFO, which records that time.
    record.started_at_ms = plan.start_fifo.empty() ? now_ms() : -1;
    write_run_record(plan.state_dir, record);
  }
  // Node learns the outcome now, and says on the same channel once it has
  // recorded the container as made; from then on the monitor answers to nobody.
  int sent = send_message(kControlFd, encode_report(report), report.ok ? pidfd : -1);
  int maker_channel = fcntl(kControlFd, F_DUPFD_CLOEXEC, 10);
  close(kControlFd);
  if (!report.ok || sent < 0) {
    if (pidfd >= 0) kill_and_reap(pidfd);
    _exit(1);
  }
  int pause_dir = open_test_pause_directory(plan, {"monitor-reported"});
  pause_until_resumed(plan, pause_dir, "monitor-reported");
  if (pause_dir >= 0) close(pause_dir);
  unsigned restarts = 0;
  unsigned backoff_step = 0;
  HealthChecker health(plan, start_exec);
  // A created container's checks start with start(); a restart's at once (begun below).
  health.begin_run(record.pid, pidfd, record.started_at_ms < 0);
  for (;;) {
    long long began = now_ms();
    Exit exit = watch_run(pidfd, sources, log, &maker_channel, health);
    // A loss at the very end of the run is said too, when the disk has room again by now.
    log.report_dropped();
    record.exited = true;
    record.finished_at_ms = now_ms();
    record.exit_code = exit.code;
    record.signal = exit.signal;
    write_run_record(plan.state_dir, record);
    if (exit.abandoned || !should_restart(plan, exit, restarts)) break;
    if (record.finished_at_ms - began >= kSteadyRunMs) backoff_step = 0;
    long long delay = std::min(kMaxBackoffMs, kFirstBackoffMs << std::min(backoff_step, 20u));
    backoff_step++;
    if (!back_off(plan, delay)) break;
    // A restart runs the program at once: only the first run waits for start(); one on
    // networks waits for the monitor's ADD in its new namespace.
    plan.start_fifo.clear();
    plan.start_fifo_fd = -1;
    std::vector<std::string> addresses;
    std::vector<NetworkLink> links = container_links(plan);
    if (!links.empty()) {
      addresses = release_for_restart(plan, links);
      plan.start_fifo = make_restart_gate(plan);
    }
    Report again;
    try {
      pidfd = start_run(plan, start, null_fd, &again, &sources);
    } catch (const SetupError& e) {
      again.ok = false;
      again.err = e.err;
      again.step = e.step;
    }
    restarts++;
    if (!again.ok) {
      record.error = again.step + ": " + strerror(again.err);
      write_run_record(plan.state_dir, record);
      break;
    }
    if (!links.empty()) {
      std::string error;
      if (!attach_networks(plan, links, again.pid, addresses, &error)) {
        kill_and_reap(pidfd);
        record.error = error;
        write_run_record(plan.state_dir, record);
        break;
      }
      open_restart_gate(plan.start_fifo, pidfd);
    }
    record = RunRecord{};
    record.monitor_pid = getpid();
    record.monitor_start_time = process_start_time(getpid());
    record.pid = again.pid;
    record.start_time = process_start_time(again.pid);
    record.started_at_ms = now_ms();
    record.restart_count = restarts;
    // The new run's health ('starting', no checks yet) is written before the record that says
    // it runs: a reader that sees the restart never takes the last run's checks for this one's.
    health.begin_run(again.pid, pidfd, false);
    write_run_record(plan.state_dir, record);
  }
  release_networks(plan);
  remove_cgroups(plan);
  if (plan.remove_on_exit) remove_stopped_container(plan, state_dir);
  _exit(0);
}

}  // namespace

void fork_monitor(Plan& plan, StartContainer start, StartExec start_exec) {
  // Node believes only the helper and the monitor the helper names to it: the
  // monitor speaks once it has been named (a byte on this pipe), and gives up if
  // the helper died first (end of file).
  int named[2];
  check(pipe2(named, O_CLOEXEC), "create the monitor's pipe");
  pid_t pid = fork();
  if (pid < 0) {
    int saved = errno;
    close(named[0]);
    close(named[1]);
    throw SetupError{"fork the monitor", saved};
  }
  if (pid > 0) {
    close(named[0]);
    if (send_message(kControlFd, "monitor " + std::to_string(pid), -1) == 0) {
      char go = 1;
      ssize_t ignored = write(named[1], &go, 1);
      (void)ignored;
    }
    close(named[1]);
    return;
  }
  close(named[1]);
  char go = 0;
  ssize_t n;
  do {
    n = read(named[0], &go, 1);
  } while (n < 0 && errno == EINTR);
  close(named[0]);
  if (n != 1) _exit(1);
  // Its own session: no terminal's hangup or job control reaches it, and the
  // caller's process group can be killed without killing it.
  setsid();
  if (chdir("/") != 0) _exit(1);
  monitor(plan, start, start_exec);
}

}  // namespace tsc
