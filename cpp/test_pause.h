// A test hook: with the plan's test.pause set to a step's name, the helper
// writes that name and its pid to test.pause_file on reaching the step and stops there
// until killed, so a crash test can kill it at exactly that step.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "plan.h"

namespace tsc {

// The pause file, opened while the helper still sees the host's filesystem (an
// exec helper pauses after it has entered the container's root).
inline int& test_pause_fd() {
  static int fd = -1;
  return fd;
}

inline void open_test_pause_file(const Plan& plan) {
  if (plan.test_pause.empty() || plan.test_pause_file.empty()) return;
  test_pause_fd() = open(plan.test_pause_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

inline void pause_for_test(const Plan& plan, const char* step) {
  if (plan.test_pause != step || plan.test_pause_file.empty()) return;
  int fd = test_pause_fd();
  if (fd < 0) fd = open(plan.test_pause_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string line = std::string("helper:") + step + " " + std::to_string(getpid()) + "\n";
    ssize_t ignored = ftruncate(fd, 0);
    ignored = pwrite(fd, line.data(), line.size(), 0);
    (void)ignored;
  }
  for (;;) pause();
}

}  // namespace tsc
