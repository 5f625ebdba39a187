#include "helper/pause_mode.h"

#include <signal.h>

namespace tsc {

int run_pause() {
  // As PID 1 of its PID namespace it gets no signal it has no handler for:
  // waiting for them with sigwait is what lets `stop` end it at once.
  sigset_t ending;
  sigemptyset(&ending);
  sigaddset(&ending, SIGTERM);
  sigaddset(&ending, SIGINT);
  sigprocmask(SIG_BLOCK, &ending, nullptr);
  int received = 0;
  while (sigwait(&ending, &received) != 0) {
  }
  return 0;
}

}  // namespace tsc
