#include "helper/cgroup_gate.h"

#include <unistd.h>

#include <cerrno>

#include "common/setup_error.h"
#include "helper/spin_wait.h"

namespace tsc {

int cgroup_gate_fd(const Plan& plan) {
  if (plan.cgroup_gate < 0 || static_cast<size_t>(plan.cgroup_gate) >= plan.owner_fds.size()) return -1;
  return plan.owner_fds[static_cast<size_t>(plan.cgroup_gate)];
}

void await_cgroups_made(int gate_fd) {
  spin_until_readable(gate_fd);
  char made = 0;
  ssize_t n;
  do {
    n = read(gate_fd, &made, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw SetupError{"wait for the container's cgroups", errno};
  // Node's cgroup error is the one it reports; this one only ends the setup.
  if (n == 0) throw SetupError{"wait for the container's cgroups (Node did not make them)", ECANCELED};
}

}  // namespace tsc
