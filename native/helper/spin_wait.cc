#include "helper/spin_wait.h"

#include <poll.h>
#include <sched.h>
#include <time.h>

namespace tsc {

namespace {

long long monotonic_us() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

// On one CPU the answer cannot come while this process spins: the peer runs only once it sleeps.
bool has_other_cpus() {
  cpu_set_t cpus;
  return sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 1;
}

}  // namespace

void spin_until_readable(int fd) {
  if (!has_other_cpus()) return;
  long long deadline = monotonic_us() + kSpinBeforeSleepUs;
  for (;;) {
    struct pollfd ready = {fd, POLLIN, 0};
    if (poll(&ready, 1, 0) != 0) return;
    if (monotonic_us() >= deadline) return;
    sched_yield();
  }
}

}  // namespace tsc
