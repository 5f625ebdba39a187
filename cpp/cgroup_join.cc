#include "cgroup_join.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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
    if (!plan.cgroup_v1_pids.empty()) {
      targets.v1_pids_directory = static_cast<int>(check(open(plan.cgroup_v1_pids.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                         "open cgroup " + plan.cgroup_v1_pids));
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
  if (v1_pids_directory < 0) return;
  long long limit = read_number(v1_pids_directory, "pids.max");
  long long current = read_number(v1_pids_directory, "pids.current");
  if (limit >= 0 && current > limit) throw SetupError{"fork (the container's pids limit is reached)", EAGAIN};
}

void CgroupTargets::close_all() {
  if (v2_directory >= 0) close(v2_directory);
  v2_directory = -1;
  if (v1_pids_directory >= 0) close(v1_pids_directory);
  v1_pids_directory = -1;
  for (int fd : v1_procs) close(fd);
  v1_procs.clear();
}

}  // namespace tsc
