#include "helper/network_namespace_maker.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/control_channel.h"
#include "common/setup_request.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "helper/network.h"

namespace tsc {

namespace {

// The message that carries the namespace, from the maker to the helper and on to the process.
constexpr const char* kNamespaceMessage = "network-namespace";

// The maker's reply when it failed: "<errno> <step>" without an fd.
[[noreturn]] void maker_fail(int socket, int err, const std::string& step) {
  send_message(socket, std::to_string(err) + " " + step, -1);
  _exit(1);
}

// Whether the user namespace at `fd` is the one this process is in already (a container
// without a user namespace of its own: the helper's).
bool is_own_user_namespace(int fd) {
  struct stat theirs, ours;
  return fstat(fd, &theirs) == 0 && stat("/proc/self/ns/user", &ours) == 0 && theirs.st_ino == ours.st_ino &&
         theirs.st_dev == ours.st_dev;
}

[[noreturn]] void run_maker(int socket, int user_namespace) {
  // Nothing of the helper's but its socket and the user namespace: no channel to Node, no
  // cgroup file, no gate of the container's process.
  int low = socket < user_namespace ? socket : user_namespace;
  int high = socket < user_namespace ? user_namespace : socket;
  if (low > 0) sys_close_range(0, static_cast<unsigned>(low - 1), 0);
  if (high > low + 1) sys_close_range(static_cast<unsigned>(low + 1), static_cast<unsigned>(high - 1), 0);
  sys_close_range(static_cast<unsigned>(high + 1), ~0U, 0);
  if (!is_own_user_namespace(user_namespace) && setns(user_namespace, CLONE_NEWUSER) < 0) {
    maker_fail(socket, errno, "enter the container's user namespace");
  }
  close(user_namespace);
  if (unshare(CLONE_NEWNET) < 0) maker_fail(socket, errno, "unshare network namespace");
  try {
    bring_up_loopback();
  } catch (const SetupError& e) {
    maker_fail(socket, e.err, e.step);
  }
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) maker_fail(socket, errno, "open the network namespace");
  _exit(send_message(socket, kNamespaceMessage, self) == 0 ? 0 : 1);
}

void reap(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The namespace, sent with kNamespaceMessage; else the failure the message carries.
int receive_namespace(int socket) {
  std::string message;
  int fd = -1;
  long n = receive_message(socket, &message, &fd);
  if (n > 0 && message == kNamespaceMessage && fd >= 0) return fd;
  if (fd >= 0) close(fd);
  int err = EPROTO;
  std::string step = "receive the network namespace";
  if (n > 0) {
    char* end = nullptr;
    long parsed = strtol(message.c_str(), &end, 10);
    if (end && *end == ' ' && parsed > 0) {
      err = static_cast<int>(parsed);
      step = std::string(end + 1);
    }
  } else if (n < 0) {
    err = static_cast<int>(-n);
  }
  throw SetupError{step, err, StepId::Clone};
}

}  // namespace

bool makes_network_namespace_apart(unsigned long clone_flags) { return (clone_flags & CLONE_NEWNET) != 0; }

int make_network_namespace_ahead(int own_namespace) {
  if (own_namespace < 0 || unshare(CLONE_NEWNET) < 0) return -1;
  int made = -1;
  try {
    bring_up_loopback();
    made = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  } catch (const SetupError&) {
    made = -1;
  }
  if (setns(own_namespace, CLONE_NEWNET) < 0) _exit(1);
  return made;
}

namespace {
// Set in a worker of the setup server: only there does kPremadeNetworkFd come from the server.
bool server_worker = false;
}  // namespace

void expect_premade_network_namespace() { server_worker = true; }

int take_premade_network_namespace() {
  static bool taken = false;
  if (taken || !server_worker) return -1;
  taken = true;
  // Only a network namespace is taken: a one-shot helper started by another program may
  // find anything, or nothing, at that number.
  if (ioctl(kPremadeNetworkFd, NS_GET_NSTYPE) != CLONE_NEWNET) return -1;
  int fd = fcntl(kPremadeNetworkFd, F_DUPFD_CLOEXEC, kPremadeNetworkFd + 1);
  close(kPremadeNetworkFd);
  return fd;
}

NetworkNamespaceMaker start_network_namespace_maker(pid_t container_pid) {
  std::string path = "/proc/" + std::to_string(container_pid) + "/ns/user";
  int user_namespace = static_cast<int>(check(open(path.c_str(), O_RDONLY | O_CLOEXEC), StepId::Clone, "open the container's user namespace"));
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0) {
    int saved = errno;
    close(user_namespace);
    throw SetupError{"unshare network namespace", saved, StepId::Clone};
  }
  // A fork, not a thread: only a process that shares neither its memory nor its
  // file-system context may enter a user namespace.
  pid_t pid = fork();
  if (pid == 0) run_maker(sockets[1], user_namespace);
  int saved = errno;
  close(sockets[1]);
  close(user_namespace);
  if (pid < 0) {
    close(sockets[0]);
    throw SetupError{"unshare network namespace", saved, StepId::Clone};
  }
  return NetworkNamespaceMaker{pid, sockets[0]};
}

int finish_network_namespace_maker(NetworkNamespaceMaker* maker) {
  int fd;
  try {
    fd = receive_namespace(maker->socket);
  } catch (...) {
    abandon_network_namespace_maker(maker);
    throw;
  }
  close(maker->socket);
  maker->socket = -1;
  reap(maker->pid);
  maker->pid = -1;
  return fd;
}

void abandon_network_namespace_maker(NetworkNamespaceMaker* maker) {
  if (maker->pid >= 0) {
    kill(maker->pid, SIGKILL);  // not yet reaped: the pid is still the maker's
    reap(maker->pid);
  }
  maker->pid = -1;
  if (maker->socket >= 0) close(maker->socket);
  maker->socket = -1;
}

void send_network_namespace(int channel_fd, int namespace_fd) {
  int rc = send_message(channel_fd, kNamespaceMessage, namespace_fd);
  if (rc < 0) throw SetupError{"send the network namespace", -rc, StepId::Clone};
}

void join_network_namespace_made_apart(int channel_fd) {
  int namespace_fd = receive_namespace(channel_fd);
  int rc = setns(namespace_fd, CLONE_NEWNET);
  int saved = errno;
  close(namespace_fd);
  if (rc < 0) throw SetupError{"join the network namespace", saved, StepId::Clone};
}

}  // namespace tsc
