// The one way a setup step fails: it names the step and carries the errno,
// so the user reads "mount /proc: EPERM" rather than a bare code. The step's
// numeric id (protocol/report-steps.ts) is what the TypeScript side tells
// failures apart by; the text is what the user reads.
#pragma once

#include <string>

#include "common/generated/steps.h"

namespace tsc {

// The step being done, for the failures thrown inside it that name no id of
// their own (the helper is single-threaded). StepScope sets it.
inline StepId& current_step_id() {
  static StepId current = StepId::Unclassified;
  return current;
}

struct SetupError {
  std::string step;
  int err;
  StepId id = current_step_id();
};

// While it lives, failures without an explicit id are reported as `id`
// ("mount /data: ENOENT" from deep in the mount code is a StepId::Mount).
class StepScope {
 public:
  explicit StepScope(StepId id) : saved_(current_step_id()) { current_step_id() = id; }
  ~StepScope() { current_step_id() = saved_; }
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;

 private:
  StepId saved_;
};

// Throws SetupError{step, errno} when rc is negative; returns rc otherwise.
inline long check(long rc, const std::string& step);
// The same, for a step with its own id.
inline long check(long rc, StepId id, const std::string& step);

}  // namespace tsc

#include <cerrno>

namespace tsc {
inline long check(long rc, const std::string& step) {
  if (rc < 0) throw SetupError{step, errno};
  return rc;
}
inline long check(long rc, StepId id, const std::string& step) {
  if (rc < 0) throw SetupError{step, errno, id};
  return rc;
}
}  // namespace tsc
