#include "helper/signal_defaults.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace tsc {

namespace {

// The kernel's struct sigaction on x86-64 and arm64 (both define SA_RESTORER), and its
// 64-signal mask.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

constexpr int kHighestSignal = 64;

}  // namespace

void reset_all_signals() {
  KernelSigaction default_action = {SIG_DFL, 0, nullptr, 0};
  for (int signo = 1; signo <= kHighestSignal; signo++) {
    if (signo == SIGKILL || signo == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, signo, &default_action, nullptr, sizeof(uint64_t));
  }
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof(uint64_t));
}

}  // namespace tsc
