#include "helper/seccomp_load.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/control_channel.h"
#include "common/setup_error.h"

namespace tsc {

void load_seccomp(const Plan& plan) {
  if (plan.seccomp_program.empty()) return;
  if (plan.seccomp_program.size() % sizeof(struct sock_filter) != 0) throw SetupError{"load seccomp", EINVAL};
  struct sock_fprog program;
  program.len = static_cast<unsigned short>(plan.seccomp_program.size() / sizeof(struct sock_filter));
  program.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(plan.seccomp_program.data()));
  unsigned long flags = plan.seccomp_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
  if (listener < 0) throw SetupError{"load seccomp", errno};
  if (!plan.seccomp_notify) return;
  // Node answers the notifications; the program must not hold the listener.
  int rc = send_message(kControlFd, "seccomp-listener", static_cast<int>(listener));
  close(static_cast<int>(listener));
  if (rc < 0) throw SetupError{"send the seccomp listener", -rc};
}

}  // namespace tsc
