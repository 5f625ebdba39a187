#include "helper/cgroup_join.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/setup_error.h"

namespace tsc {

CgroupTargets CgroupTargets::open_for(const Plan& plan, bool clone_into) {
  CgroupTargets targets;
  auto open_procs = [&](const std::string& path) {
    targets.procs.push_back(static_cast<int>(check(open(path.c_str(), O_WRONLY | O_CLOEXEC), "open cgroup " + path)));
  };
  try {
    if (!plan.cgroup2_path.empty() && clone_into) {
      targets.v2_directory = static_cast<int>(check(open(plan.cgroup2_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                    "open cgroup " + plan.cgroup2_path));
    } else if (!plan.cgroup2_path.empty()) {
      open_procs(plan.cgroup2_path + "/cgroup.procs");
    }
    if (!plan.cgroup_pids.empty()) {
      targets.pids_directory = static_cast<int>(check(open(plan.cgroup_pids.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                      "open cgroup " + plan.cgroup_pids));
    }
    for (const auto& procs : plan.cgroup_v1_procs) open_procs(procs);
  } catch (...) {
    targets.close_all();
    throw;
  }
  return targets;
}

void CgroupTargets::join(pid_t pid) const {
  std::string text = std::to_string(pid);
  for (int fd : procs) {
    if (write(fd, text.data(), text.size()) < 0) throw SetupError{"join the container's cgroup", errno};
  }
}

namespace {

// A small cgroup file's first line as a number; -1 for "max" or unreadable.
long long read_number(int dir_fd, const char* file) {
  int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[64] = {0};
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0 || text[0] < '0' || text[0] > '9') return -1;
  return strtoll(text, nullptr, 10);
}

}  // namespace

void CgroupTargets::check_pids_limit() const {
  if (pids_directory < 0) return;
  long long limit = read_number(pids_directory, "pids.max");
  long long current = read_number(pids_directory, "pids.current");
  if (limit >= 0 && current > limit) throw SetupError{"fork (the container's pids limit is reached)", EAGAIN};
}

void CgroupTargets::close_all() {
  if (v2_directory >= 0) close(v2_directory);
  v2_directory = -1;
  if (pids_directory >= 0) close(pids_directory);
  pids_directory = -1;
  for (int fd : procs) close(fd);
  procs.clear();
}

}  // namespace tsc
