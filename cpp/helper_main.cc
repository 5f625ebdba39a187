// ts-container-helper: the single-threaded executable that does container
// setup outside of Node. The addon starts it with the program's stdio on fds
// 0-2, the control channel on fd 3 and, to exec into a container, the
// container's pidfd on fd 4. It reads one plan, clones the container process
// as a child of Node (CLONE_PARENT, so Node reaps it through its pidfd),
// reports the pid and pidfd or the failed step, and exits.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "control_channel.h"
#include "credentials.h"
#include "id_maps.h"
#include "namespaces.h"
#include "network.h"
#include "plan.h"
#include "program_exec.h"
#include "rlimits.h"
#include "rootfs.h"
#include "setup_error.h"
#include "syscalls.h"
#include "tiny_init.h"

namespace tsc {
namespace {

struct Pipe {
  int read_end = -1, write_end = -1;
};

Pipe make_pipe(const char* step) {
  int fds[2];
  check(pipe2(fds, O_CLOEXEC), step);
  return Pipe{fds[0], fds[1]};
}

// Clones the process that becomes the container's program. Returns its pid
// and sets *pidfd; in the child returns 0.
pid_t clone_process(unsigned long namespace_flags, int* pidfd) {
  struct clone_args args = {};
  args.flags = CLONE_PARENT | CLONE_PIDFD | namespace_flags;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  // With CLONE_PARENT the kernel takes the exit signal from the helper (SIGCHLD
  // to Node) and requires this field to be 0.
  args.exit_signal = 0;
  return static_cast<pid_t>(check(sys_clone3(&args), "clone3"));
}

// The steps shared by the first process and exec'd ones, once namespaces and
// mounts are in place.
[[noreturn]] void finish_and_exec(const Plan& plan, int failure_fd) {
  apply_rlimits(plan.rlimits);
  become_container_user(plan);
  check(chdir(plan.cwd.c_str()), "chdir " + plan.cwd);
  if (plan.init && plan.mode == PlanMode::Run) run_as_init(plan, failure_fd);
  exec_program(plan);
}

void enter_new_session() {
  // The helper ignores SIGPIPE (a child may close a pipe first); the
  // program gets the default back.
  signal(SIGPIPE, SIG_DFL);
  // A new session has no controlling terminal: the container cannot inject
  // input into the caller's terminal (TIOCSTI) or get its job-control signals.
  check(setsid(), "setsid");
  // Nobody may open /proc/<pid>/exe of this process (the helper binary)
  // before exec replaces it.
  check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "set non-dumpable");
}

[[noreturn]] void container_first_process(const Plan& plan, int failure_fd, int go_fd) {
  try {
    enter_new_session();
    if (plan.has_namespace("user")) {
      char go = 0;
      ssize_t n;
      do {
        n = read(go_fd, &go, 1);
      } while (n < 0 && errno == EINTR);
      if (n != 1) _exit(127);  // the helper failed and has reported why
      // Container root from here on, so files made in the container's own
      // filesystems have a mapped owner.
      check(setresgid(0, 0, 0), "setgid 0 in the user namespace");
      check(setresuid(0, 0, 0), "setuid 0 in the user namespace");
    }
    close(go_fd);
    umask(0);
    if (plan.has_namespace("uts") && !plan.hostname.empty()) {
      check(sethostname(plan.hostname.data(), plan.hostname.size()), "sethostname");
    }
    if (plan.has_namespace("mount")) build_rootfs(plan);
    if (plan.has_namespace("net")) bring_up_loopback();
    finish_and_exec(plan, failure_fd);
  } catch (const SetupError& e) {
    write_failure(failure_fd, e.err, e.step);
  }
  _exit(127);
}

[[noreturn]] void exec_process(const Plan& plan, int failure_fd) {
  try {
    enter_new_session();
    finish_and_exec(plan, failure_fd);
  } catch (const SetupError& e) {
    write_failure(failure_fd, e.err, e.step);
  }
  _exit(127);
}

// Waits for the cloned process to exec (end of file on the failure pipe) or
// to report the step that failed.
void await_exec(int failure_read, Report* report) {
  int err = 0;
  std::string step;
  if (read_failure(failure_read, &err, &step)) {
    report->ok = false;
    report->err = err;
    report->step = step;
  } else {
    report->ok = true;
  }
  close(failure_read);
}

int start_container(const Plan& plan, Report* report) {
  unsigned long flags = namespace_flags(plan.namespaces);
  if (flags & CLONE_NEWTIME) {
    prepare_time_namespace(plan.monotonic_offset, plan.boottime_offset);
    flags &= ~static_cast<unsigned long>(CLONE_NEWTIME);  // children of this helper are in it already
  }
  Pipe failure = make_pipe("pipe");
  Pipe go = make_pipe("pipe");
  int pidfd = -1;
  pid_t pid = clone_process(flags, &pidfd);
  if (pid == 0) {
    close(failure.read_end);
    close(go.write_end);
    container_first_process(plan, failure.write_end, go.read_end);
  }
  close(failure.write_end);
  close(go.read_end);
  report->pid = pid;
  try {
    if (flags & CLONE_NEWUSER) write_id_maps(pid, plan.uid_map, plan.gid_map);
  } catch (const SetupError& e) {
    close(go.write_end);  // the child sees end of file and exits
    close(failure.read_end);
    report->ok = false;
    report->err = e.err;
    report->step = e.step;
    return pidfd;
  }
  if (flags & CLONE_NEWUSER) {
    char go_byte = 1;
    ssize_t ignored = write(go.write_end, &go_byte, 1);
    (void)ignored;
  }
  close(go.write_end);
  await_exec(failure.read_end, report);
  return pidfd;
}

int start_exec(const Plan& plan, Report* report) {
  if (plan.join_pidfd < 0) throw SetupError{"exec without a container pidfd", EBADF};
  join_namespaces(plan.join_pidfd, namespace_flags(plan.namespaces));
  Pipe failure = make_pipe("pipe");
  int pidfd = -1;
  pid_t pid = clone_process(0, &pidfd);
  if (pid == 0) {
    close(failure.read_end);
    exec_process(plan, failure.write_end);
  }
  close(failure.write_end);
  report->pid = pid;
  await_exec(failure.read_end, report);
  return pidfd;
}

}  // namespace
}  // namespace tsc

int main() {
  using namespace tsc;
  // A write to a pipe whose reader has exited is an error to handle, not death.
  signal(SIGPIPE, SIG_IGN);
  // Only the fds the addon gave us stay open here.
  sys_close_range(kJoinPidfd + 1, ~0U, 0);
  std::string bytes;
  int ignored_fd = -1;
  Report report;
  int pidfd = -1;
  long n = receive_message(kControlFd, &bytes, &ignored_fd);
  if (n <= 0) return 2;
  try {
    Plan plan = parse_plan(bytes);
    if (plan.mode == PlanMode::Exec) plan.join_pidfd = kJoinPidfd;
    pidfd = plan.mode == PlanMode::Run ? start_container(plan, &report) : start_exec(plan, &report);
  } catch (const SetupError& e) {
    report.ok = false;
    report.err = e.err;
    report.step = e.step;
  }
  return send_message(kControlFd, encode_report(report), pidfd) == 0 ? 0 : 1;
}
