#include "helper/tiny_init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/control_channel.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "helper/program_exec.h"

namespace tsc {

namespace {

[[noreturn]] void exit_like(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  _exit(128 + WTERMSIG(status));
}

void detach_stdio() {
  // The program owns stdio: the init keeps no end of the caller's pipes open.
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return;
  for (int fd = 0; fd < 3; fd++) dup2(null_fd, fd);
  close(null_fd);
}

}  // namespace

void run_as_init(const Plan& plan, int failure_fd) {
  sigset_t all;
  sigfillset(&all);
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &all, &previous);
  pid_t program = fork();
  if (program < 0) {
    write_failure(failure_fd, errno, StepId::Unclassified, "fork the program under init");
    _exit(127);
  }
  if (program == 0) {
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    try {
      exec_program(plan);
    } catch (const SetupError& e) {
      write_failure(failure_fd, e.err, e.id, e.step);
    }
    _exit(127);
  }
  close(failure_fd);
  // PID 1 keeps no fd of the setup (the control channel among them).
  sys_close_range(3, ~0U, 0);
  detach_stdio();
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(program, sig);
      continue;
    }
    int status;
    pid_t reaped;
    while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped == program) exit_like(status);
    }
  }
}

}  // namespace tsc
