// The one way a setup step fails: it names the step and carries the errno,
// so the user reads "mount /proc: EPERM" rather than a bare code.
#pragma once

#include <string>

namespace tsc {

struct SetupError {
  std::string step;
  int err;
};

// Throws SetupError{step, errno} when rc is negative; returns rc otherwise.
inline long check(long rc, const std::string& step);

}  // namespace tsc

#include <cerrno>

namespace tsc {
inline long check(long rc, const std::string& step) {
  if (rc < 0) throw SetupError{step, errno};
  return rc;
}
}  // namespace tsc
