// CLOCK_MONOTONIC in microseconds: the clock a spin's deadline is kept on, and the one the
// phase trace's marks are taken on (Node's process.hrtime reads it too).
#pragma once

#include <time.h>

namespace tsc {

inline long long monotonic_us() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

}  // namespace tsc
