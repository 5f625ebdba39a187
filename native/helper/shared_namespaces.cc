#include "helper/shared_namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/test_pause.h"
#include "common/unique_fd.h"
#include "helper/namespaces.h"
#include "monitor/run_record.h"

namespace tsc {

SharedNamespaces::SharedNamespaces(Plan& plan) : plan_(plan) {
  if (plan.shared_namespaces.empty()) return;
  try {
    join();
  } catch (...) {
    leave();
    throw;
  }
}

void SharedNamespaces::join() {
  Plan& plan = plan_;
  const std::string step = "join the namespaces of process " + std::to_string(plan.share_pid);
  StepScope scope(StepId::ShareNamespaces);
  for (const auto& name : plan.shared_namespaces) {
    std::string own = "/proc/self/ns/" + name;
    int fd = static_cast<int>(check(open(own.c_str(), O_RDONLY | O_CLOEXEC), "open " + own));
    own_.push_back(Own{fd, static_cast<int>(namespace_flags({name}))});
    plan.own_namespace_fds.push_back(fd);
  }
  // Tests: the target may stop here, between its lookup in the state root and the join.
  int pause_dir = open_test_pause_directory(plan, {"share-namespaces"});
  pause_until_resumed(plan, pause_dir, "share-namespaces");
  if (pause_dir >= 0) close(pause_dir);
  UniqueFd pidfd(static_cast<int>(check(sys_pidfd_open(plan.share_pid, 0), step)));
  // Checked once the pidfd pins the process: the pid names the recorded one.
  if (plan.share_start_time.empty() || process_start_time(plan.share_pid) != plan.share_start_time) {
    throw SetupError{step, ESRCH};
  }
  check(setns(pidfd.get(), static_cast<int>(namespace_flags(plan.shared_namespaces))), step);
}

SharedNamespaces::~SharedNamespaces() { leave(); }

void SharedNamespaces::leave() {
  for (const Own& own : own_) {
    // Its own namespaces, which it entered once: nothing makes this fail short of a
    // broken kernel, and the helper then has nothing better to do than go on.
    (void)setns(own.fd, own.flag);
    close(own.fd);
  }
  own_.clear();
  plan_.own_namespace_fds.clear();
}

}  // namespace tsc
