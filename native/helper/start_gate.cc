#include "helper/start_gate.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/setup_error.h"

namespace tsc {

int open_start_fifo(const std::string& path) {
  return static_cast<int>(check(open(path.c_str(), O_PATH | O_CLOEXEC), "open the start FIFO"));
}

void wait_for_start(int fifo_fd) {
  // Reopened through the container's own /proc: the O_PATH fd alone cannot be
  // written, and the FIFO's host path is outside the container's root.
  std::string path = "/proc/self/fd/" + std::to_string(fifo_fd);
  int fd;
  do {
    fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw SetupError{"wait for start", errno};
  char go = 1;
  ssize_t n;
  do {
    n = write(fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  close(fifo_fd);
  if (n != 1) throw SetupError{"wait for start", saved};
}

void die_with_parent(int parent_pidfd) {
  if (parent_pidfd < 0) return;
  check(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "set the parent-death signal");
  // The parent may have died before the signal was armed: its pidfd says so.
  struct pollfd p = {parent_pidfd, POLLIN, 0};
  if (poll(&p, 1, 0) > 0) _exit(127);
}

}  // namespace tsc
