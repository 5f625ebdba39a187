#include "helper/cgroup_join.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/fd_passing.h"
#include "common/setup_error.h"

namespace tsc {

namespace {

constexpr char kProcsFile[] = "/cgroup.procs";
constexpr char kCgroupsMessage[] = "cgroups";

// A v1 hierarchy's `tasks` file beside its cgroup.procs; empty when `procs` is no cgroup.procs.
std::string tasks_file_beside(const std::string& procs) {
  const size_t suffix = sizeof kProcsFile - 1;
  if (procs.size() <= suffix || procs.compare(procs.size() - suffix, suffix, kProcsFile) != 0) return "";
  return procs.substr(0, procs.size() - suffix) + "/tasks";
}

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

void close_each(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

}  // namespace

CgroupTargets CgroupTargets::open_for(const Plan& plan, bool clone_into) {
  CgroupTargets targets;
  auto open_for_writing = [&](const std::string& path, std::vector<int>* into) {
    into->push_back(static_cast<int>(check(open(path.c_str(), O_WRONLY | O_CLOEXEC), "open cgroup " + path)));
  };
  try {
    if (!plan.cgroup2_path.empty() && clone_into) {
      targets.v2_directory = static_cast<int>(check(open(plan.cgroup2_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                    "open cgroup " + plan.cgroup2_path));
    } else if (!plan.cgroup2_path.empty()) {
      open_for_writing(plan.cgroup2_path + kProcsFile, &targets.procs);
    }
    if (!plan.cgroup_pids.empty()) {
      targets.pids_directory = static_cast<int>(check(open(plan.cgroup_pids.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                                                      "open cgroup " + plan.cgroup_pids));
    }
    for (const auto& procs : plan.cgroup_v1_procs) {
      std::string tasks = tasks_file_beside(procs);
      if (tasks.empty()) {
        open_for_writing(procs, &targets.procs);
      } else {
        open_for_writing(tasks, &targets.own_moves);
      }
    }
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

void CgroupTargets::send_to_process(int channel_fd) const {
  // "cgroups <moves> <pids>": the `tasks` fds first, then the pids cgroup's when <pids> is 1.
  std::vector<int> fds = own_moves;
  if (pids_directory >= 0) fds.push_back(pids_directory);
  std::string message = std::string(kCgroupsMessage) + " " + std::to_string(own_moves.size()) + " " +
                        (pids_directory >= 0 ? "1" : "0");
  int rc = send_message_with_fds(channel_fd, message, fds);
  if (rc < 0) throw SetupError{"send the process its cgroups", -rc};
}

void CgroupTargets::close_all() {
  if (v2_directory >= 0) close(v2_directory);
  v2_directory = -1;
  if (pids_directory >= 0) close(pids_directory);
  pids_directory = -1;
  close_each(procs);
  procs.clear();
  close_each(own_moves);
  own_moves.clear();
}

void join_own_cgroups(int channel_fd) {
  std::string message;
  std::vector<int> fds;
  long n = receive_message_with_fds(channel_fd, &message, &fds);
  if (n <= 0) throw SetupError{"receive the container's cgroups", n < 0 ? static_cast<int>(-n) : EPIPE, StepId::Unclassified};
  size_t moves = 0;
  int with_pids = 0;
  char tag[sizeof kCgroupsMessage] = {0};
  bool well_formed = sscanf(message.c_str(), "%7s %zu %d", tag, &moves, &with_pids) == 3 &&
                     message.compare(0, sizeof kCgroupsMessage - 1, kCgroupsMessage) == 0 &&
                     moves + (with_pids ? 1 : 0) == fds.size();
  if (!well_formed) {
    close_each(fds);
    throw SetupError{"receive the container's cgroups", EPROTO, StepId::Unclassified};
  }
  for (size_t i = 0; i < moves; i++) {
    // "0": this thread, the process's only one; moved by itself, under no global lock.
    if (write(fds[i], "0", 1) < 0) {
      int err = errno;
      close_each(fds);
      throw SetupError{"join the container's cgroup", err, StepId::Unclassified};
    }
  }
  long long limit = -1, current = -1;
  if (with_pids) {
    limit = read_number(fds[moves], "pids.max");
    current = read_number(fds[moves], "pids.current");
  }
  close_each(fds);
  if (limit >= 0 && current > limit) throw SetupError{"fork (the container's pids limit is reached)", EAGAIN, StepId::Unclassified};
}

}  // namespace tsc
