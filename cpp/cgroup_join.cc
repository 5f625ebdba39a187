#include "cgroup_join.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "setup_error.h"

namespace tsc {

CgroupTargets CgroupTargets::open_for(const Plan& plan) {
  CgroupTargets targets;
  try {
    if (!plan.cgroup2_path.empty()) {
      targets.v2_directory = static_cast<int>(check(open(plan.cgroup2_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                    "open cgroup " + plan.cgroup2_path));
    }
    for (const auto& procs : plan.cgroup_v1_procs) {
      targets.v1_procs.push_back(
          static_cast<int>(check(open(procs.c_str(), O_WRONLY | O_CLOEXEC), "open cgroup " + procs)));
    }
  } catch (...) {
    targets.close_all();
    throw;
  }
  return targets;
}

void CgroupTargets::join_v1(pid_t pid) const {
  std::string text = std::to_string(pid);
  for (int fd : v1_procs) {
    if (write(fd, text.data(), text.size()) < 0) throw SetupError{"join a v1 cgroup", errno};
  }
}

void CgroupTargets::close_all() {
  if (v2_directory >= 0) close(v2_directory);
  v2_directory = -1;
  for (int fd : v1_procs) close(fd);
  v1_procs.clear();
}

}  // namespace tsc
