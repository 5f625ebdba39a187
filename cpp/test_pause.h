// A test hook: with the plan's test.pause set to a step's name, the helper
// writes that name and its pid to test.pause_file on reaching the step and stops there
// until killed, so a crash test can kill it at exactly that step.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "plan.h"

namespace tsc {

inline void pause_for_test(const Plan& plan, const char* step) {
  if (plan.test_pause != step || plan.test_pause_file.empty()) return;
  int fd = open(plan.test_pause_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string line = std::string("helper:") + step + " " + std::to_string(getpid()) + "\n";
    ssize_t ignored = write(fd, line.data(), line.size());
    (void)ignored;
    close(fd);
  }
  for (;;) pause();
}

}  // namespace tsc
