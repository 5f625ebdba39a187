#include "addon/helper_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/setup_error.h"
#include "common/syscalls.h"

extern char** environ;

namespace tsc {

namespace {

// Copies of the source fds above every target number, so that the dup2
// actions cannot overwrite a source before it is used.
int high_copy(int fd) {
  return static_cast<int>(check(fcntl(fd, F_DUPFD_CLOEXEC, 10), "duplicate a stdio fd"));
}

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  void dup_to(int fd, int target) { posix_spawn_file_actions_adddup2(&actions_, fd, target); }
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    // Node ignores SIGPIPE and its threads block signals: the helper and the
    // container start with every signal at its default and none blocked.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setsigmask(&attr_, &none);
    // Its own process group (pgid = its pid), which what it clones inherits until it
    // leaves it (setsid, past its parent-setup gate): Node finds by it a child the
    // helper cloned but died before naming (see reap_unnamed_children).
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// The helper runs from a sealed in-memory copy of its binary, never from the
// file on disk: a process in a container that gets hold of /proc/<pid>/exe of
// a joining helper (CVE-2019-5736) finds a memfd that no one can write, so it
// cannot replace the binary that the next container start would run as root.
// Made once per Node process; the fd stays open and close-on-exec.
int sealed_helper_fd(const std::string& helper_path) {
  static std::mutex lock;
  static int sealed = -1;
  static std::string sealed_from;
  std::lock_guard<std::mutex> guard(lock);
  if (sealed >= 0 && sealed_from == helper_path) return sealed;
  int source = static_cast<int>(check(open(helper_path.c_str(), O_RDONLY | O_CLOEXEC), "open the helper " + helper_path));
  int copy = static_cast<int>(syscall(SYS_memfd_create, "ts-container-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (copy < 0) {
    int saved = errno;
    close(source);
    throw SetupError{"memfd_create for the helper", saved};
  }
  char buffer[65536];
  for (;;) {
    ssize_t n = read(source, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (n > 0 && write(copy, buffer, static_cast<size_t>(n)) != n)) {
      int saved = errno;
      close(source);
      close(copy);
      throw SetupError{"copy the helper into memory", saved};
    }
    if (n == 0) break;
  }
  close(source);
  fchmod(copy, 0555);
  if (fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int saved = errno;
    close(copy);
    throw SetupError{"seal the helper's copy", saved};
  }
  if (sealed >= 0) close(sealed);
  sealed = copy;
  sealed_from = helper_path;
  return sealed;
}

// The children of this (Node) process still in the helper's process group. With
// CLONE_PARENT, the helper's clone is Node's child from the moment it exists, but
// Node hears of it only in the "cloned" message: a helper killed in between leaves a
// child Node cannot name, which exits at its parent-setup gate (the helper's end is gone)
// and would stay a zombie. Called before the helper is reaped, so that its pid (the
// group's id) cannot have been reused.
void reap_unnamed_children(pid_t helper_pid) {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  pid_t self = getpid();
  while (struct dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != 0 || pid == helper_pid) continue;
    std::string stat_path = std::string("/proc/") + entry->d_name + "/stat";
    FILE* file = fopen(stat_path.c_str(), "re");
    if (!file) continue;
    char buffer[1024];
    size_t n = fread(buffer, 1, sizeof buffer - 1, file);
    fclose(file);
    buffer[n] = 0;
    // "pid (comm) state ppid pgrp ...": comm may hold anything but ends at the last ')'.
    const char* after = strrchr(buffer, ')');
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!after || sscanf(after + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (ppid != self || pgrp != helper_pid) continue;
    int pidfd = sys_pidfd_open(static_cast<pid_t>(pid), 0);
    if (pidfd < 0) continue;
    sys_pidfd_send_signal(pidfd, SIGKILL, 0);
    siginfo_t info;
    while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
    }
    close(pidfd);
  }
  closedir(proc);
}

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

LaunchedHelper launch_helper(const std::string& helper_path, const std::string& plan, const int stdio_fds[3],
                             int join_pidfd, const std::vector<int>& owner_fds) {
  int sockets[2];
  check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets), "create the control channel");
  // Node believes only what the helper (or its monitor) itself sends: see await_helper.
  int passcred = pass_sender_pids(sockets[0]);
  if (passcred < 0) {
    close(sockets[0]);
    close(sockets[1]);
    throw SetupError{"create the control channel", -passcred};
  }
  std::vector<int> copies;
  auto close_all = [&]() {
    for (int fd : copies) close(fd);
  };
  LaunchedHelper helper;
  try {
    SpawnActions actions;
    for (int i = 0; i < 3; i++) {
      copies.push_back(high_copy(stdio_fds[i]));
      actions.dup_to(copies.back(), i);
    }
    copies.push_back(sockets[1]);
    actions.dup_to(sockets[1], kControlFd);
    if (join_pidfd >= 0) {
      copies.push_back(high_copy(join_pidfd));
      actions.dup_to(copies.back(), kJoinPidfd);
    }
    for (size_t i = 0; i < owner_fds.size(); i++) {
      copies.push_back(high_copy(owner_fds[i]));
      actions.dup_to(copies.back(), kFirstOwnerFd + static_cast<int>(i));
    }
    SpawnAttributes attributes;
    std::string owner_count = std::to_string(owner_fds.size());
    char* argv[] = {const_cast<char*>("ts-container-helper"), const_cast<char*>(owner_count.c_str()), nullptr};
    char* envp[] = {nullptr};
    pid_t pid;
    // The child resolves this path in its own fd table (a copy of ours) before
    // exec closes the close-on-exec fd.
    std::string sealed_path = "/proc/self/fd/" + std::to_string(sealed_helper_fd(helper_path));
    int rc = posix_spawn(&pid, sealed_path.c_str(), actions.get(), attributes.get(), argv, envp);
    if (rc != 0) throw SetupError{"start the helper " + helper_path, rc};
    helper.pid = pid;
    helper.control_fd = sockets[0];
  } catch (...) {
    close_all();
    close(sockets[0]);
    throw;
  }
  close_all();
  make_room_for(helper.control_fd, plan.size());
  int rc = send_message(helper.control_fd, plan, -1);
  if (rc < 0) {
    helper.send_error = -rc;
    // The helper gets end of file and exits; it is reaped by await_helper.
    shutdown(helper.control_fd, SHUT_WR);
  }
  return helper;
}

HelperOutcome await_helper(const LaunchedHelper& helper, const std::function<void(int)>& on_listener, bool keep_channel) {
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
  // Before the report, the helper relays the new process's terminal and seccomp listener.
  for (;;) {
    int fd = -1;
    pid_t sender = -1;
    n = receive_message_from(helper.control_fd, &message, &fd, &sender, 0);
    if (n > 0 && sender != helper.pid && (monitor_pid < 0 || sender != monitor_pid)) {
      if (fd >= 0) close(fd);
      continue;
    }
    if (n > 0 && sender == helper.pid && message.rfind("monitor ", 0) == 0) {
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
    if (n > 0 && message == "terminal") {
      if (outcome.terminal_fd >= 0) close(outcome.terminal_fd);
      outcome.terminal_fd = fd;
      continue;
    }
    outcome.pidfd = fd;
    break;
  }
  // No report: the helper died, perhaps between a clone and its "cloned".
  if (n <= 0 && cloned_pidfd < 0) reap_unnamed_children(helper.pid);
  int status = 0;
  while (waitpid(helper.pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool reported = n > 0 && decode_report(message, &outcome.report);
  if (keep_channel && reported && outcome.report.ok) {
    outcome.channel_fd = helper.control_fd;
  } else {
    close(helper.control_fd);
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
    siginfo_t info;
    while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(outcome.pidfd), &info, WEXITED) < 0 &&
           errno == EINTR) {
    }
    close(outcome.pidfd);
    outcome.pidfd = -1;
  }
  return outcome;
}

}  // namespace tsc
