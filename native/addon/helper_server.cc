#include "addon/helper_server.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "addon/helper_process.h"
#include "common/control_channel.h"
#include "common/setup_error.h"
#include "common/setup_request.h"

namespace tsc {

namespace {

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
    // Signals: Node ignores SIGPIPE and its threads block signals; the helper resets every
    // disposition and its mask itself as it starts (native/helper/signal_defaults.h), the two
    // that POSIX_SPAWN_SETSIGDEF cannot reach too, and its workers inherit that.
    // A process group of its own: a terminal's ^C to Node's group does not reach it,
    // and a worker it cloned but never named stays in this group (see restart()).
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP);
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
// Made once per helper path (under the server's lock); the fd stays open and close-on-exec.
int sealed_helper_fd(const std::string& helper_path) {
  static int sealed = -1;
  static std::string sealed_from;
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

// The one server of this process; every field is guarded by `lock`, which a
// request holds from its send to the worker's setpgid.
struct Server {
  std::mutex lock;
  pid_t pid = -1;
  int channel = -1;  // Node's end, close-on-exec, SO_PASSCRED
  std::string helper_path;
};

Server& server() {
  static Server* instance = new Server();  // never destroyed: a worker thread may use it at exit
  return *instance;
}

// Starts the server with stdio on /dev/null and its channel at kSetupServerFd.
void start(Server& s, const std::string& helper_path) {
  int sockets[2];
  check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets), "create the setup server's channel");
  int passcred = pass_sender_pids(sockets[0]);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (passcred < 0 || null_fd < 0) {
    int saved = passcred < 0 ? -passcred : errno;
    close(sockets[0]);
    close(sockets[1]);
    if (null_fd >= 0) close(null_fd);
    throw SetupError{"create the setup server's channel", saved};
  }
  pid_t pid = -1;
  int rc;
  try {
    SpawnActions actions;
    for (int i = 0; i < 3; i++) actions.dup_to(null_fd, i);
    actions.dup_to(sockets[1], kSetupServerFd);
    SpawnAttributes attributes;
    char* argv[] = {const_cast<char*>("ts-container-helper"), const_cast<char*>(kSetupServerArg), nullptr};
    char* envp[] = {nullptr};
    // The child resolves this path in its own fd table (a copy of ours) before
    // exec closes the close-on-exec fd.
    std::string sealed_path = "/proc/self/fd/" + std::to_string(sealed_helper_fd(helper_path));
    rc = posix_spawn(&pid, sealed_path.c_str(), actions.get(), attributes.get(), argv, envp);
  } catch (...) {
    close(sockets[0]);
    close(sockets[1]);
    close(null_fd);
    throw;
  }
  close(sockets[1]);
  close(null_fd);
  if (rc != 0) {
    close(sockets[0]);
    throw SetupError{"start the helper " + helper_path, rc};
  }
  s.pid = pid;
  s.channel = sockets[0];
  s.helper_path = helper_path;
}

// Lets go of the server (dead, or in a state Node cannot trust after a failed send): it is
// killed if it still runs, and reaped. Workers it cloned go on (each has its plan and names
// itself); one that died before naming itself is reaped here or by whoever waited for it.
void stop(Server& s) {
  if (s.pid < 0) return;
  close(s.channel);
  kill(s.pid, SIGKILL);  // not yet reaped: the pid is still the server's
  int status;
  while (waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {
  }
  reap_dead_unnamed_workers(s.pid, false);
  s.pid = -1;
  s.channel = -1;
}

// Errors of a send that mean the server has gone (closed its end, or was killed).
bool server_gone(int send_error) { return send_error == -EPIPE || send_error == -ECONNRESET || send_error == -ENOTCONN; }

}  // namespace

pid_t request_worker(const std::string& helper_path, const std::vector<int>& fds, bool has_join_pidfd, int owner_fd_count,
                     bool stop_after_clone) {
  if (owner_fd_count > kMaxOwnerFds) throw SetupError{"pass the container's owner fds", E2BIG};
  SetupRequest request;
  request.fds = fds;
  request.has_join_pidfd = has_join_pidfd;
  request.owner_fd_count = owner_fd_count;
  request.stop_after_clone = stop_after_clone;
  Server& s = server();
  std::lock_guard<std::mutex> guard(s.lock);
  if (s.pid >= 0 && s.helper_path != helper_path) stop(s);
  // A server that died (killed, out of memory) is replaced once, and the request sent again:
  // a request it had not read yet went with it, and its fds are still the caller's.
  for (int attempt = 0; attempt < 2; attempt++) {
    if (s.pid < 0) start(s, helper_path);
    int sent = send_setup_request(s.channel, request);
    if (sent == 0) return s.pid;
    // A bad fd of the caller's (EBADF), too many in flight (ETOOMANYREFS): nothing was sent.
    if (!server_gone(sent)) throw SetupError{"send the setup server its request", -sent};
    stop(s);
  }
  throw SetupError{"reach the setup server", EPIPE};
}

void retire_server(pid_t pid) {
  Server& s = server();
  std::lock_guard<std::mutex> guard(s.lock);
  if (s.pid >= 0 && s.pid == pid) stop(s);
}

bool server_stop_after_clone_requested() {
  // The test hook (lib/state/test-hook.ts names the variable).
  const char* pause_at = getenv("TS_CONTAINER_TEST_PAUSE_AT");
  return pause_at && strcmp(pause_at, "server:worker-cloned") == 0;
}

pid_t helper_server_pid() {
  Server& s = server();
  std::lock_guard<std::mutex> guard(s.lock);
  return s.pid;
}

}  // namespace tsc
