#include "helper/spin_wait.h"

#include <poll.h>
#include <sched.h>

#include "common/monotonic_clock.h"

namespace tsc {

namespace {

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
