#include "addon/helper_process.h"

#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "addon/helper_server.h"
#include "addon/retained_request.h"
#include "addon/worker_reaper.h"
#include "common/setup_error.h"
#include "common/setup_request.h"
#include "common/syscalls.h"

namespace tsc {

namespace {

// A plan is one message, and a message must fit the sender's buffer (about 200 KiB by default):
// a program's arguments and environment may take up to a quarter of its stack limit. Root may
// go past net.core.wmem_max (SO_SNDBUFFORCE); else the plan fails to go, as too big (E2BIG).
void make_room_for(int socket_fd, size_t message_size) {
  constexpr size_t kSlack = 64 * 1024;
  if (message_size < 128 * 1024) return;
  int wanted = static_cast<int>(std::min<size_t>(message_size + kSlack, 64u << 20));
  if (setsockopt(socket_fd, SOL_SOCKET, SO_SNDBUFFORCE, &wanted, sizeof wanted) < 0) {
    setsockopt(socket_fd, SOL_SOCKET, SO_SNDBUF, &wanted, sizeof wanted);
  }
}

}  // namespace

namespace {

// A child of this process as /proc/<pid>/stat shows it.
struct ChildSeen {
  pid_t pid;
  char state;
  bool setup_server_comm;  // still named as the server that cloned it
};

// Calls `each` for every child of this process in process group `group`, but its leader.
template <typename Each>
void for_each_child_in_group(pid_t group, Each each) {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  pid_t self = getpid();
  while (struct dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != 0 || pid == group) continue;
    std::string stat_path = std::string("/proc/") + entry->d_name + "/stat";
    FILE* file = fopen(stat_path.c_str(), "re");
    if (!file) continue;
    char buffer[1024];
    size_t n = fread(buffer, 1, sizeof buffer - 1, file);
    fclose(file);
    buffer[n] = 0;
    // "pid (comm) state ppid pgrp ...": comm may hold anything but ends at the last ')'.
    const char* open = strchr(buffer, '(');
    const char* after = strrchr(buffer, ')');
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!open || !after || sscanf(after + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (ppid != self || pgrp != group) continue;
    std::string comm(open + 1, after);
    each(ChildSeen{static_cast<pid_t>(pid), state, comm == "tsc-setup-srv"});
  }
  closedir(proc);
}

// Waits for the process of `pidfd` to end (it has been killed, or is dead) and reaps it.
void reap_pidfd(int pidfd) {
  siginfo_t info;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
  }
}

}  // namespace

// With CLONE_PARENT, the helper's clone is Node's child from the moment it exists, but
// Node hears of it only in the "cloned" message: a helper killed in between leaves a
// child Node cannot name, which exits at its parent-setup gate (the helper's end is gone)
// and would stay a zombie. It is found by the process group of the helper that cloned it.
void reap_unnamed_children(pid_t helper_pid) {
  for_each_child_in_group(helper_pid, [](const ChildSeen& child) {
    int pidfd = sys_pidfd_open(child.pid, 0);
    if (pidfd < 0) return;
    sys_pidfd_send_signal(pidfd, SIGKILL, 0);
    reap_pidfd(pidfd);
    close(pidfd);
  });
}

void reap_dead_unnamed_workers(pid_t server, bool wait_for_one) {
  // A worker still in the server's group has not named itself yet; it still bears the
  // server's name, which no process of a container does.
  constexpr int kPolls = 100;
  for (int poll = 0; poll < kPolls; poll++) {
    bool reaped = false;
    for_each_child_in_group(server, [&](const ChildSeen& child) {
      if (!child.setup_server_comm || (child.state != 'Z' && child.state != 'X')) return;
      int pidfd = sys_pidfd_open(child.pid, 0);
      if (pidfd < 0) return;
      siginfo_t info;
      info.si_pid = 0;
      // Not blocking: another thread may have reaped it meanwhile (then ECHILD).
      if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) == 0 && info.si_pid != 0) reaped = true;
      close(pidfd);
    });
    if (reaped || !wait_for_one) return;
    usleep(1000);
  }
}

namespace {

// Asks the server for a worker on a new control channel. `fds` are the request's but the
// channel's end (stdio 0-2, the join pidfd, the owner fds): that end goes in at fd 3.
LaunchedHelper ask_for_worker(const std::string& helper_path, const std::vector<int>& fds, bool has_join_pidfd,
                              int owner_fd_count, bool stop_after_clone) {
  int sockets[2];
  check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets), "create the control channel");
  // Node believes only what the helper (or its monitor) itself sends: see await_helper.
  int passcred = pass_sender_pids(sockets[0]);
  if (passcred < 0) {
    close(sockets[0]);
    close(sockets[1]);
    throw SetupError{"create the control channel", -passcred};
  }
  std::vector<int> request_fds = fds;
  request_fds.insert(request_fds.begin() + 3, sockets[1]);
  LaunchedHelper helper;
  try {
    helper.server_pid = request_worker(helper_path, request_fds, has_join_pidfd, owner_fd_count, stop_after_clone);
  } catch (...) {
    close(sockets[0]);
    close(sockets[1]);
    throw;
  }
  // The server and then the worker hold the only other copies of its end: end of file here
  // means they are gone.
  close(sockets[1]);
  helper.control_fd = sockets[0];
  return helper;
}

}  // namespace

LaunchedHelper reserve_helper(const std::string& helper_path, const int stdio_fds[3], int join_pidfd,
                              const std::vector<int>& owner_fds) {
  std::vector<int> fds = {stdio_fds[0], stdio_fds[1], stdio_fds[2]};
  if (join_pidfd >= 0) fds.push_back(join_pidfd);
  fds.insert(fds.end(), owner_fds.begin(), owner_fds.end());
  bool has_join_pidfd = join_pidfd >= 0;
  int owner_fd_count = static_cast<int>(owner_fds.size());
  LaunchedHelper helper =
      ask_for_worker(helper_path, fds, has_join_pidfd, owner_fd_count, server_stop_after_clone_requested());
  retain_request(helper.control_fd, helper_path, fds, has_join_pidfd, owner_fd_count);
  return helper;
}

void send_plan(LaunchedHelper* helper, std::string plan) {
  make_room_for(helper->control_fd, plan.size());
  int rc = send_message(helper->control_fd, plan, -1);
  if (rc < 0) {
    // Too big to send (its arguments and environment): the worker gets end of file and
    // exits; await_helper reports this error.
    helper->send_error = -rc;
    shutdown(helper->control_fd, SHUT_WR);
  }
  helper->plan = std::move(plan);
}

LaunchedHelper launch_helper(const std::string& helper_path, std::string plan, const int stdio_fds[3],
                             int join_pidfd, const std::vector<int>& owner_fds) {
  LaunchedHelper helper = reserve_helper(helper_path, stdio_fds, join_pidfd, owner_fds);
  send_plan(&helper, std::move(plan));
  return helper;
}

namespace {

// The server went with the request unread (retained_request.h): the request is sent once
// more, on a new channel that takes the old one's place, with the same plan. False when no
// server could be asked (the caller then reports the first one's end); a plan that cannot go
// this time is the new worker's end of file, reported as the first send's would be.
bool ask_again(LaunchedHelper* helper, const RetainedRequest& request) {
  // A worker the server cloned may have died before it named itself: reaped while the
  // server's pid, its process group, is not yet reaped and so cannot be reused.
  reap_dead_unnamed_workers(helper->server_pid, true);
  // Not to that server again: killed, it may not have closed its end yet, and would take
  // this request into its queue too.
  retire_server(helper->server_pid);
  LaunchedHelper again;
  try {
    again = ask_for_worker(request.helper_path, request.fds, request.has_join_pidfd, request.owner_fd_count, false);
  } catch (const SetupError&) {
    return false;
  }
  close(helper->control_fd);
  helper->control_fd = again.control_fd;
  helper->server_pid = again.server_pid;
  send_plan(helper, helper->plan);
  return true;
}

// End of file, or ECONNRESET for a plan left unread in the end that went: nobody holds the
// worker's end of the channel any more.
bool hung_up(long n) { return n == 0 || n == -ECONNRESET; }

}  // namespace

HelperOutcome await_helper(LaunchedHelper helper, const std::function<void(int)>& on_listener, bool keep_channel) {
  // Until a worker names itself: a request the server went with is sent again, once.
  std::optional<RetainedRequest> request = take_retained_request(helper.control_fd);
  HelperOutcome outcome;
  std::string message;
  long n;
  // Node's own child, as soon as it is cloned: if the helper dies before its report, Node
  // can still kill and reap it.
  int cloned_pidfd = -1;
  // Only the helper and the monitor it names speak on the channel. A process in the
  // container that got hold of the helper's end (pidfd_getfd, with CAP_SYS_PTRACE, on
  // a process the helper cloned) sends with its own pid: what it says is dropped.
  pid_t monitor_pid = -1;
  // The helper: the worker that named itself, first of all (launch_helper). Until then the
  // channel's other end was only the server's and the worker's: the server speaks only to
  // report that it could not clone one.
  pid_t worker = -1;
  // Before the report, the helper relays the new process's terminal and seccomp listener.
  for (;;) {
    int fd = -1;
    pid_t sender = -1;
    n = receive_message_from(helper.control_fd, &message, &fd, &sender, 0);
    if (n > 0 && worker < 0) {
      if (fd >= 0) close(fd);
      if (message == kWorkerNamedMessage && sender > 0) {
        worker = sender;
        if (request) close_request_fds(*request);
        request.reset();
        continue;
      }
      if (sender == helper.server_pid) break;
      continue;
    }
    if (worker < 0 && hung_up(n) && request && !helper.plan.empty() && helper.send_error == 0) {
      bool asked = ask_again(&helper, *request);
      close_request_fds(*request);
      request.reset();
      if (asked) continue;
    }
    if (n > 0 && sender != worker && (monitor_pid < 0 || sender != monitor_pid)) {
      if (fd >= 0) close(fd);
      continue;
    }
    if (n > 0 && sender == worker && message.rfind("monitor ", 0) == 0) {
      if (fd >= 0) close(fd);
      monitor_pid = static_cast<pid_t>(atoi(message.c_str() + 8));
      continue;
    }
    if (n > 0 && message == "cloned") {
      if (cloned_pidfd >= 0) close(cloned_pidfd);
      cloned_pidfd = fd;
      continue;
    }
    if (n > 0 && message == "seccomp-listener") {
      if (fd >= 0) on_listener(fd);
      continue;
    }
    if (n > 0 && message == kNamespaceHoldMessage) {
      if (fd >= 0) outcome.held_namespace_fds.push_back(fd);
      continue;
    }
    if (n > 0 && message.rfind(kPhaseMarksMessage, 0) == 0) {
      if (fd >= 0) close(fd);
      outcome.phase_marks = message.substr(strlen(kPhaseMarksMessage));
      continue;
    }
    if (n > 0 && message == "terminal") {
      if (outcome.terminal_fd >= 0) close(outcome.terminal_fd);
      outcome.terminal_fd = fd;
      continue;
    }
    outcome.pidfd = fd;
    break;
  }
  if (request) close_request_fds(*request);
  bool reported = n > 0 && decode_report(message, &outcome.report);
  if (keep_channel && reported && outcome.report.ok) {
    outcome.channel_fd = helper.control_fd;
  } else {
    // Before the reaping below: a worker not yet named that still holds its end gets EPIPE.
    close(helper.control_fd);
  }
  int status = 0;
  if (worker > 0 && reported && outcome.report.ok) {
    // It exits now; its status says nothing more than its report. Reaped off the path of
    // the spawn, which goes on at once.
    reap_worker_later(worker);
  } else if (worker > 0) {
    // A failed setup, or no report at all: reaped before the outcome is handed over, so that
    // a spawn that rejects leaves no process of its own behind (and its status explains a
    // missing report). Without one, the helper died, perhaps between a clone and its "cloned".
    if (!reported && n <= 0 && cloned_pidfd < 0) reap_unnamed_children(worker);
    while (waitpid(worker, &status, 0) < 0 && errno == EINTR) {
    }
  } else if (!reported && helper.server_pid > 0) {
    // Never named: the server ended before it cloned the worker, or the worker died first.
    reap_dead_unnamed_workers(helper.server_pid, true);
  }
  if (outcome.pidfd < 0) {
    outcome.pidfd = cloned_pidfd;
  } else if (cloned_pidfd >= 0) {
    close(cloned_pidfd);
  }
  if ((!reported || !outcome.report.ok) && outcome.terminal_fd >= 0) {
    // Nobody will drive the terminal of a process that failed to start.
    close(outcome.terminal_fd);
    outcome.terminal_fd = -1;
  }
  if (!reported) {
    outcome.report.ok = false;
    outcome.report.err = n < 0 ? static_cast<int>(-n) : EPIPE;
    // A detached container's helper exits at once and leaves the report to its
    // monitor: a clean exit without a report means the monitor died first.
    if (helper.send_error == EMSGSIZE || helper.send_error == ENOBUFS) {
      // The plan was too big to send: its arguments and environment, as execve's E2BIG.
      outcome.report.step_id = StepId::Exec;
      outcome.report.step = "exec";
      outcome.report.err = E2BIG;
    } else if (n < 0 && !(worker < 0 && hung_up(n))) {
      // Node could not take what came (out of fds for the pidfd it carried: EMFILE).
      outcome.report.step = "receive the helper's report";
    } else if (worker < 0) {
      outcome.report.step = "start the helper's worker (the setup server ended before it started one)";
    } else if (WIFSIGNALED(status)) {
      outcome.report.step = "helper killed by signal " + std::to_string(WTERMSIG(status));
    } else if (WEXITSTATUS(status) == 0) {
      outcome.report.step = "the container's monitor ended before it reported";
    } else {
      outcome.report.step = "helper exited with status " + std::to_string(WEXITSTATUS(status));
    }
    // What it cloned is still in setup, waits for start() at its start gate, or runs
    // unaccounted for: it goes now.
    if (outcome.pidfd >= 0) sys_pidfd_send_signal(outcome.pidfd, SIGKILL, 0);
  }
  if (!reported || !outcome.report.ok) {
    for (int fd : outcome.held_namespace_fds) close(fd);
    outcome.held_namespace_fds.clear();
  }
  if (!outcome.report.ok && outcome.pidfd >= 0) {
    // The cloned process has failed and exits (or was killed above): it is Node's child, reap it now.
    reap_pidfd(outcome.pidfd);
    close(outcome.pidfd);
    outcome.pidfd = -1;
  }
  return outcome;
}

}  // namespace tsc
