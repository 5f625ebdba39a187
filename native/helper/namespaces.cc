#include "helper/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/setup_error.h"

namespace tsc {

unsigned long namespace_flags(const std::vector<std::string>& names) {
  unsigned long flags = 0;
  for (const auto& name : names) {
    if (name == "pid") flags |= CLONE_NEWPID;
    else if (name == "mount") flags |= CLONE_NEWNS;
    else if (name == "uts") flags |= CLONE_NEWUTS;
    else if (name == "ipc") flags |= CLONE_NEWIPC;
    else if (name == "net") flags |= CLONE_NEWNET;
    else if (name == "cgroup") flags |= CLONE_NEWCGROUP;
    else if (name == "user") flags |= CLONE_NEWUSER;
    else if (name == "time") flags |= CLONE_NEWTIME;
    else throw SetupError{"namespace " + name, EINVAL};
  }
  return flags;
}

void prepare_time_namespace(long long monotonic_offset, long long boottime_offset) {
  check(unshare(CLONE_NEWTIME), "unshare time namespace");
  // Offsets can only be written before any process enters the namespace.
  std::string offsets = "monotonic " + std::to_string(monotonic_offset) + " 0\nboottime " +
                        std::to_string(boottime_offset) + " 0\n";
  int fd = static_cast<int>(check(open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC), "open timens_offsets"));
  ssize_t n = write(fd, offsets.data(), offsets.size());
  int saved = errno;
  close(fd);
  if (n < 0) throw SetupError{"write timens_offsets", saved};
}

void join_namespaces(int pidfd, unsigned long flags) {
  check(setns(pidfd, static_cast<int>(flags)), StepId::JoinNamespaces, "join namespaces");
}

}  // namespace tsc
