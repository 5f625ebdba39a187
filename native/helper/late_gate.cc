#include "helper/late_gate.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "common/control_channel.h"
#include "common/fd_passing.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "helper/start_gate.h"

namespace tsc {

namespace {

// Closes every fd above stdio but those in `keep`.
void close_all_but(std::vector<int> keep) {
  keep.erase(std::remove_if(keep.begin(), keep.end(), [](int fd) { return fd < 3; }), keep.end());
  std::sort(keep.begin(), keep.end());
  unsigned next = 3;
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > next) sys_close_range(next, static_cast<unsigned>(fd - 1), 0);
    next = static_cast<unsigned>(fd) + 1;
  }
  sys_close_range(next, ~0U, 0);
}

// Only what pool.spawn() may set per spawn is taken from the late spec.
void take_process_fields(Plan* plan, const Plan& late) {
  plan->argv = late.argv;
  plan->env = late.env;
  plan->cwd = late.cwd;
  plan->uid = late.uid;
  plan->gid = late.gid;
  plan->groups = late.groups;
  plan->user_spec = late.user_spec;
  plan->user_home = late.user_home;
  plan->tty = late.tty;
  plan->tty_console = late.tty_console;
  plan->tty_columns = late.tty_columns;
  plan->tty_rows = late.tty_rows;
}

}  // namespace

int late_gate_fd(const Plan& plan) {
  if (plan.late_gate < 0 || static_cast<size_t>(plan.late_gate) >= plan.owner_fds.size()) return -1;
  return plan.owner_fds[static_cast<size_t>(plan.late_gate)];
}

void pass_late_gate(Plan* plan, int failure_fd, int gate_fd) {
  // Armed again (taking root in the user namespace cleared it): a member dies with Node, and
  // the end of file that Node's death makes on the gate would end it too.
  die_with_parent(plan->parent_pidfd);
  write_failure(failure_fd, 0, StepId::Unclassified, "created");
  // While it waits, nothing but its stdio (the helper's /dev/null), the gate and its parent's
  // pidfd (die_with_parent is armed again after the credentials change): not the channel to
  // the helper, nor the failure pipe, which the helper reads to its end.
  close_all_but({gate_fd, plan->parent_pidfd});
  std::string bytes;
  std::vector<int> fds;
  long n = receive_message_with_fds(gate_fd, &bytes, &fds);
  if (n == 0) _exit(0);  // Node let it go unused: the pool closed or the member was destroyed
  if (n < 0) throw SetupError{"receive the late spec", static_cast<int>(-n)};
  if (fds.size() != 3) {
    for (int fd : fds) close(fd);
    throw SetupError{"receive the late spec", EPROTO};
  }
  Plan late = parse_plan(bytes);
  take_process_fields(plan, late);
  for (int i = 0; i < 3; i++) {
    check(dup2(fds[static_cast<size_t>(i)], i), "set the program's stdio");
  }
  // Received above stdio (0-2 were open): none of them is one of the targets.
  for (int fd : fds) close(fd);
}

}  // namespace tsc
