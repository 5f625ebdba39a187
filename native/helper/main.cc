// ts-container-helper: the single-threaded executable that does container
// setup outside of Node. The addon starts it once per Node process as the
// setup server (setup_server.h), which clones one worker per container or
// exec; a worker (or a helper started for one container) has the program's
// stdio on fds 0-2, the control channel on fd 3 and, to exec into a
// container, the container's pidfd on fd 4. It reads one plan, clones the
// container process as a child of Node (CLONE_PARENT, so Node reaps it
// through its pidfd), reports the pid and pidfd or the failed step, and exits.
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/control_channel.h"
#include "common/monotonic_clock.h"
#include "common/plan.h"
#include "common/setup_request.h"
#include "common/setup_error.h"
#include "common/syscalls.h"
#include "common/test_pause.h"
#include "common/unique_fd.h"
#include "helper/bind_sources.h"
#include "helper/cgroup_gate.h"
#include "helper/spin_wait.h"
#include "helper/cgroup_join.h"
#include "helper/credentials.h"
#include "helper/device_cgroup.h"
#include "helper/id_maps.h"
#include "helper/idmapped_rootfs.h"
#include "helper/late_gate.h"
#include "helper/namespace_hold.h"
#include "helper/namespaces.h"
#include "helper/pause_mode.h"
#include "helper/phase_marks.h"
#include "helper/network.h"
#include "helper/network_namespace_maker.h"
#include "helper/program_exec.h"
#include "helper/rlimits.h"
#include "helper/rootfs.h"
#include "helper/seccomp_load.h"
#include "helper/setup_server.h"
#include "helper/shared_namespaces.h"
#include "helper/signal_defaults.h"
#include "helper/start_gate.h"
#include "helper/terminal.h"
#include "helper/tiny_init.h"
#include "helper/user_lookup.h"
#include "monitor/monitor.h"

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

// Clones the process that becomes the container's program, into its cgroup
// v2 directory when there is one. Returns its pid and sets *pidfd; in the
// child returns 0.
pid_t clone_process(unsigned long namespace_flags, int cgroup_fd, int* pidfd, bool parent_is_node) {
  struct clone_args args = {};
  args.flags = CLONE_PIDFD | namespace_flags | (parent_is_node ? CLONE_PARENT : 0);
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  // With CLONE_PARENT the kernel takes the exit signal from the helper (SIGCHLD
  // to Node) and requires this field to be 0. A detached container's monitor
  // is its parent: SIGCHLD, so that waitid() sees it without __WCLONE.
  args.exit_signal = parent_is_node ? 0 : SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return static_cast<pid_t>(check(sys_clone3(&args), StepId::Clone, "clone3"));
}

// The cloned process waits at two gates of its parent (the helper). The first opens once
// what must happen before it does anything is done: Node told of it, id maps written. The
// second opens once the helper has done its part of the cgroup joins (cgroup_join.h), which
// the process spends building its root meanwhile; past it the process joins its v1
// hierarchies itself, before it makes its cgroup namespace and long before its program runs.
// A helper that dies first closes them: the process exits at a gate and never runs
// unaccounted for. Not the start gate (start_gate.h), where a created container's process
// waits later for start().
struct ParentSetupGate {
  Pipe pipe;
  Pipe cgroups;

  // In the child: returns once the helper opens the first gate; exits quietly if the
  // helper failed instead (it reports why).
  void wait_in_child() {
    close(pipe.write_end);
    close(cgroups.write_end);
    pass(pipe.read_end);
  }

  // In the child, past the first gate: returns once it is in its cgroups, which the helper
  // opened for it and joined it to where only the helper may (cgroup_join.h).
  void wait_for_cgroups_in_child() {
    pass(cgroups.read_end);
    join_own_cgroups(kControlFd);
  }

  void open_in_parent() { open(&pipe); }

  void open_cgroups_in_parent() { open(&cgroups); }

  // Either gate: the child sees end of file at the next one and exits.
  void fail_in_parent() {
    for (Pipe* gate : {&pipe, &cgroups}) {
      if (gate->read_end >= 0) close(gate->read_end);
      if (gate->write_end >= 0) close(gate->write_end);
      gate->read_end = gate->write_end = -1;
    }
  }

 private:
  static void pass(int read_end) {
    spin_until_readable(read_end);
    char go = 0;
    ssize_t n;
    do {
      n = read(read_end, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(127);
    close(read_end);
  }

  static void open(Pipe* gate) {
    close(gate->read_end);
    char go = 1;
    ssize_t ignored = write(gate->write_end, &go, 1);
    (void)ignored;
    close(gate->write_end);
    gate->read_end = gate->write_end = -1;
  }
};

// Set once a created container's process has passed its start gate: nobody
// reads its failure pipe any more, so a failure goes to its stderr instead.
bool passed_start_gate = false;

// What the process says of a setup failure: to the helper while it waits, to
// stderr (the log of a detached container) after start().
void report_failure(int failure_fd, const SetupError& e) {
  if (!passed_start_gate) {
    write_failure(failure_fd, e.err, e.id, e.step);
    return;
  }
  std::string line = "ts-container: " + e.step + ": " + strerror(e.err) + "\n";
  ssize_t ignored = write(2, line.data(), line.size());
  (void)ignored;
}

// Closes every fd above stdio but `keep`.
void close_all_but_stdio_and(int keep) {
  if (keep > 3) sys_close_range(3, static_cast<unsigned>(keep - 1), 0);
  sys_close_range(static_cast<unsigned>(keep < 3 ? 3 : keep + 1), ~0U, 0);
}

// The steps shared by the first process and exec'd ones, once namespaces and
// mounts are in place.
[[noreturn]] void finish_and_exec(const Plan& plan, int failure_fd) {
  apply_rlimits(plan.rlimits);
  check(chdir(plan.cwd.c_str()), "chdir " + plan.cwd);
  bool first = plan.mode == PlanMode::Run;
  // Armed again: taking the container's credentials cleared it.
  if (first) die_with_parent(plan.parent_pidfd);
  bool seccomp_loaded = false;
  if (first && plan.start_fifo_fd >= 0) {
    // A missing program fails create(), not the later start().
    resolve_program(plan);
    // With notify, the listener must reach Node while create() still reads the channel.
    if (plan.seccomp_notify) {
      load_seccomp(plan);
      seccomp_loaded = true;
    }
    write_failure(failure_fd, 0, StepId::Unclassified, "created");
    failure_fd = -1;
    // While it waits, the process keeps only its stdio and the FIFO: not the
    // control channel (an open one would keep Node waiting for a helper that
    // died), not the pidfd of its parent outside the container, nor any fd of
    // the monitor (its log, the read ends of the output pipes). The failure
    // pipe goes too: nothing more goes to the helper from here.
    close_all_but_stdio_and(plan.start_fifo_fd);
    passed_start_gate = true;
    wait_for_start(plan.start_fifo_fd);
  }
  if (!seccomp_loaded) load_seccomp(plan);
  mark_phase("seccomp loaded");
  // Still open on the way to the program (the start gate's path closed it: nothing is sent).
  send_phase_marks(kControlFd);
  if (plan.init && first) run_as_init(plan, failure_fd);
  exec_program(plan);
}

// The exit status of a program that could not be run after start(), as a shell gives it.
int exit_status_for(const SetupError& e) { return e.id == StepId::Exec && e.err == ENOENT ? 127 : 126; }

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

// The rootfs overlay the helper made over idmapped layers, sent before it opened the gate.
int receive_idmapped_rootfs() {
  std::string message;
  int fd = -1;
  long n = receive_message(kControlFd, &message, &fd);
  if (n <= 0 || message != kIdmappedRootfsMessage || fd < 0) {
    if (fd >= 0) close(fd);
    throw SetupError{"receive the rootfs overlay from the helper", n < 0 ? static_cast<int>(-n) : EPROTO, StepId::MountRootfsOverlay};
  }
  return fd;
}

[[noreturn]] void container_first_process(const Plan& given, int failure_fd, ParentSetupGate& parent_setup) {
  // This process's own copy (it is a clone, not a thread): a user given by name is
  // resolved into it once the container's root is in place.
  Plan plan = given;
  try {
    // Before anything else: a parent that dies now takes this process along.
    die_with_parent(plan.parent_pidfd);
    // A pool member keeps its late gate (helper/late_gate.h); no other owner fd.
    int late_gate = late_gate_fd(plan);
    for (int fd : plan.owner_fds)
      if (fd != late_gate) close(fd);
    for (int fd : plan.own_namespace_fds) close(fd);
    // The helper's copy: this process gets its own on its channel.
    if (plan.premade_network_fd >= 0) close(plan.premade_network_fd);
    parent_setup.wait_in_child();
    mark_phase("first gate passed");
    enter_new_session();
    if (plan.has_namespace("user")) {
      // Container root from here on, so files made in the container's own
      // filesystems have a mapped owner.
      check(setresgid(0, 0, 0), "setgid 0 in the user namespace");
      check(setresuid(0, 0, 0), "setuid 0 in the user namespace");
    }
    umask(0);
    if (plan.has_namespace("uts") && !plan.hostname.empty()) {
      check(sethostname(plan.hostname.data(), plan.hostname.size()), "sethostname");
    }
    // The helper joins this process to its cgroups while it builds its root; it waits for
    // that before it binds their directories (which Node may still be making: cgroup_gate.h).
    bool in_cgroups = false;
    auto enter_cgroups = [&] {
      parent_setup.wait_for_cgroups_in_child();
      in_cgroups = true;
    };
    // A network namespace made beside this process is joined as the root reaches /sys.
    if (plan.has_namespace("mount")) build_rootfs(plan, plan.rootfs_idmapped ? receive_idmapped_rootfs() : -1, enter_cgroups);
    if (plan.network_namespace_apart && !plan.has_namespace("mount")) join_network_namespace_made_apart(kControlFd);
    // Made apart, its lo is up already (helper/network_namespace_maker.h).
    if (plan.has_namespace("net") && !plan.network_namespace_apart) bring_up_loopback();
    if (!in_cgroups) enter_cgroups();
    // Made once the process is in its cgroups, so that its root is the container's cgroup.
    if (plan.has_namespace("cgroup")) check(unshare(CLONE_NEWCGROUP), "unshare cgroup namespace");
    if (late_gate >= 0) {
      // Made ahead: waits for pool.spawn()'s argv, env, cwd, user, tty and stdio; from here a
      // failure goes to Node on the gate, as the terminal does.
      pass_late_gate(&plan, failure_fd, late_gate);
      failure_fd = late_gate;
    }
    // In the container's own /etc/passwd and /etc/group, before the terminal is given to the user.
    resolve_user_spec(&plan);
    // Now that the container's /dev is in place, and before the capabilities
    // go: binding /dev/console needs CAP_SYS_ADMIN.
    if (plan.tty) attach_terminal(plan, late_gate >= 0 ? late_gate : kControlFd);
    become_container_user(plan);
    finish_and_exec(plan, failure_fd);
  } catch (const SetupError& e) {
    report_failure(failure_fd, e);
    _exit(exit_status_for(e));
  }
  _exit(127);
}

[[noreturn]] void exec_process(const Plan& plan, int failure_fd, ParentSetupGate& parent_setup) {
  try {
    // Born with the container's credentials (the helper took them before
    // cloning): a container process that traces it gains nothing, and it holds no
    // channel to Node (see start_process).
    pause_for_test(plan, "exec-child");
    parent_setup.wait_in_child();
    parent_setup.wait_for_cgroups_in_child();
    enter_new_session();
    if (plan.tty) attach_terminal(plan, kControlFd);
    finish_and_exec(plan, failure_fd);
  } catch (const SetupError& e) {
    write_failure(failure_fd, e.err, e.id, e.step);
  }
  _exit(127);
}

// What a cloned process sends before it execs (its terminal's master, its seccomp
// listener) goes to the helper, which passes it on: the process sits in the
// container's PID namespace, where a tracer could take its fds, and so it never
// holds the channel to Node. Only what the process itself sent is passed on.
bool relay_one(int child_channel, pid_t child, int flags) {
  std::string message;
  int fd = -1;
  pid_t sender = -1;
  long n = receive_message_from(child_channel, &message, &fd, &sender, flags);
  if (n == -EAGAIN || n == -EMSGSIZE) return n == -EMSGSIZE;
  if (n <= 0) return false;
  if (sender == child && message.rfind(kPhaseMarksMessage, 0) == 0) add_phase_marks(message.substr(strlen(kPhaseMarksMessage)));
  if (sender == child && (message == "terminal" || message == "seccomp-listener")) send_message(kControlFd, message, fd);
  if (fd >= 0) close(fd);
  return true;
}

// Waits for the cloned process to exec (end of file on the failure pipe) or
// to report the step that failed, passing on what it sends meanwhile.
void await_exec(int failure_read, int child_channel, Report* report) {
  for (;;) {
    struct pollfd fds[2] = {{failure_read, POLLIN, 0}, {child_channel, POLLIN, 0}};
    int count = child_channel >= 0 ? 2 : 1;
    int ready = poll(fds, static_cast<nfds_t>(count), -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (count == 2 && fds[1].revents != 0) {
      if (!relay_one(child_channel, report->pid, 0)) child_channel = -1;
      continue;
    }
    if (fds[0].revents != 0) break;
  }
  int err = 0;
  StepId step_id = StepId::Unclassified;
  std::string step;
  // A created process says so ("0 0 created") and waits for start().
  if (read_failure(failure_read, &err, &step_id, &step) && !(err == 0 && step == "created")) {
    report->ok = false;
    report->err = err;
    report->step_id = step_id;
    report->step = step;
  } else {
    report->ok = true;
  }
  close(failure_read);
  // What it sent before the failure pipe ended is queued: pass it on too.
  while (child_channel >= 0 && relay_one(child_channel, report->pid, MSG_DONTWAIT)) {
  }
}

using ChildBody = void (*)(const Plan&, int, ParentSetupGate&);

// The container's cgroups, ready to be joined: on cgroup2 its device program is attached
// first, before any process is in it.
CgroupTargets open_container_cgroups(const Plan& plan, bool clone_into) {
  if (!plan.cgroup2_path.empty()) attach_device_program(plan.cgroup2_path, plan.device_rules);
  return CgroupTargets::open_for(plan, clone_into);
}

// Clones a process that runs `body`, does the parent's part before letting it
// run, and waits until it has exec'd or failed. Returns its pidfd. With a cgroup gate
// (cgroup_gate.h), `cgroups` is opened only once Node says they exist.
int start_process(const Plan& plan, unsigned long namespace_flags, CgroupTargets& cgroups, int cgroup_gate,
                  ChildBody body, Report* report) {
  Pipe failure = make_pipe("pipe");
  ParentSetupGate parent_setup{make_pipe("pipe"), make_pipe("pipe")};
  int channel[2];
  check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel), "create the process's channel");
  check(pass_sender_pids(channel[0]), "create the process's channel");
  int pidfd = -1;
  bool parent_is_node = !(plan.mode == PlanMode::Run && plan.detach);
  NetworkNamespaceMaker network_maker;
  pid_t pid = clone_process(namespace_flags, cgroups.v2_directory, &pidfd, parent_is_node);
  if (pid == 0) {
    // First of all, the channel to Node (or to the monitor) gives way to the
    // helper's own: this process is visible in the container from now on.
    dup2(channel[1], kControlFd);
    close(channel[0]);
    close(channel[1]);
    close(failure.read_end);
    forget_phase_marks();
    cgroups.close_all();
    body(plan, failure.write_end, parent_setup);
    _exit(127);
  }
  mark_phase("process cloned");
  close(failure.write_end);
  close(channel[1]);
  report->pid = pid;
  pause_for_test(plan, "clone-report");
  // Node's child: Node gets its pidfd at once, so that it can reap it even if
  // this helper dies before the report.
  if (parent_is_node) send_message(kControlFd, "cloned", pidfd);
  // Node reaps it: Node holds its mount and network namespaces, so that their teardown
  // does not delay the exit Node waits for. (A monitor's exit record is not on that path.)
  if (parent_is_node && plan.mode == PlanMode::Run) send_namespace_holds(pid, namespace_flags);
  pause_for_test(plan, "cloned");
  try {
    if (namespace_flags & CLONE_NEWUSER) write_id_maps(pid, plan.uid_map, plan.gid_map);
    // Made in the process's user namespace (its maps are written), while Node finishes what
    // the gate below waits for; the process joins it when its root reaches /sys.
    if (plan.network_namespace_apart && plan.premade_network_fd < 0) network_maker = start_network_namespace_maker(pid);
    if (cgroup_gate >= 0) {
      // Node made the cgroups (but for a cgroup2 one the process was cloned into) and the
      // writable layer meanwhile: nothing below mounts the rootfs before they exist.
      await_cgroups_made(cgroup_gate);
      bool cloned_into_cgroup2 = cgroups.v2_directory >= 0;
      cgroups.close_all();
      cgroups = cloned_into_cgroup2 ? CgroupTargets::open_for(plan, true) : open_container_cgroups(plan, false);
    }
    if (namespace_flags & CLONE_NEWUSER) {
      idmap_bind_sources(plan, pid);
      if (plan.rootfs_idmapped) {
        UniqueFd overlay(make_idmapped_rootfs(plan, pid));
        int sent = send_message(channel[0], kIdmappedRootfsMessage, overlay.get());
        if (sent < 0) throw SetupError{"send the rootfs overlay", -sent, StepId::MountRootfsOverlay};
      }
    }
    if (plan.premade_network_fd >= 0) {
      // Made ahead: the process finds it on its channel when its root reaches /sys.
      send_network_namespace(channel[0], plan.premade_network_fd);
      if (parent_is_node && plan.mode == PlanMode::Run) send_message(kControlFd, kNamespaceHoldMessage, plan.premade_network_fd);
    }
    // Marked first: the process may mark its side of the gate before this one's write returns.
    mark_phase("first gate opened");
    parent_setup.open_in_parent();
    // Sent before its cgroups: the process takes its network namespace first, as its root reaches /sys.
    if (plan.network_namespace_apart && plan.premade_network_fd < 0) {
      UniqueFd network_namespace(finish_network_namespace_maker(&network_maker));
      send_network_namespace(channel[0], network_namespace.get());
      // Held as the clone's would be (namespace_hold.h).
      if (parent_is_node && plan.mode == PlanMode::Run) send_message(kControlFd, kNamespaceHoldMessage, network_namespace.get());
    }
    // The helper's moves, then the process's own at its cgroup gate (cgroup_join.h).
    cgroups.join(pid);
    cgroups.send_to_process(channel[0]);
    cgroups.close_all();
  } catch (const SetupError& e) {
    abandon_network_namespace_maker(&network_maker);
    parent_setup.fail_in_parent();  // the child sees end of file at its next gate and exits
    // Past the first gate it builds its root meanwhile: it goes now.
    sys_pidfd_send_signal(pidfd, SIGKILL, 0);
    report->ok = false;
    report->err = e.err;
    report->step_id = e.id;
    report->step = e.step;
    // A join fails when the process is gone: what it said of its own failure comes first.
    int err = 0;
    StepId step_id = StepId::Unclassified;
    std::string step;
    if (read_failure(failure.read_end, &err, &step_id, &step) && err != 0) {
      report->err = err;
      report->step_id = step_id;
      report->step = step;
    }
    close(failure.read_end);
    close(channel[0]);
    return pidfd;
  }
  parent_setup.open_cgroups_in_parent();
  await_exec(failure.read_end, channel[0], report);
  mark_phase("exec seen");
  close(channel[0]);
  return pidfd;
}

int start_container(Plan& plan, Report* report) {
  unsigned long flags = namespace_flags(plan.namespaces);
  if (flags & CLONE_NEWTIME) {
    prepare_time_namespace(plan.monotonic_offset, plan.boottime_offset);
    flags &= ~static_cast<unsigned long>(CLONE_NEWTIME);  // children of this helper are in it already
  }
  // Made by the child itself, once in its cgroups.
  flags &= ~static_cast<unsigned long>(CLONE_NEWCGROUP);
  // Made beside the process while it builds its root, not by the clone: made ahead by the
  // setup server when it is to be owned by the helper's own user namespace.
  plan.network_namespace_apart = makes_network_namespace_apart(flags);
  if (plan.network_namespace_apart) flags &= ~static_cast<unsigned long>(CLONE_NEWNET);
  bool owned_here = !(flags & CLONE_NEWUSER) &&
                    std::find(plan.shared_namespaces.begin(), plan.shared_namespaces.end(), "user") == plan.shared_namespaces.end();
  if (plan.premade_network_fd >= 0 && !(plan.network_namespace_apart && owned_here)) {
    close(plan.premade_network_fd);
    plan.premade_network_fd = -1;
  }
  // Cgroups Node makes meanwhile are opened once they exist (start_process).
  int cgroup_gate = cgroup_gate_fd(plan);
  // The process joins v1 hierarchies after its clone anyway; a cgroup2 one it is cloned into
  // (CLONE_INTO_CGROUP: no move, which could wait for an RCU grace period), so that one must
  // exist before the clone: on a cgroup v2 host alone the gate is waited for first; on a
  // hybrid host Node made the cgroup2 directory before the plan (cgroup.gate_v1_only).
  if (cgroup_gate >= 0 && plan.cgroup_v1_procs.empty()) {
    await_cgroups_made(cgroup_gate);
    cgroup_gate = -1;
  }
  CgroupTargets cgroups;
  if (cgroup_gate < 0) {
    cgroups = open_container_cgroups(plan, true);
  } else if (plan.cgroup_gate_v1_only && !plan.cgroup2_path.empty()) {
    if (!plan.device_rules.empty()) attach_device_program(plan.cgroup2_path, plan.device_rules);
    cgroups.v2_directory = static_cast<int>(check(open(plan.cgroup2_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), "open cgroup " + plan.cgroup2_path));
  }
  if (!plan.start_fifo.empty() && plan.start_fifo_fd < 0) plan.start_fifo_fd = open_start_fifo(plan.start_fifo);
  // Cloned here, in the host's mount namespace, before anything of the container exists.
  prepare_bind_sources(plan);
  plan.rootfs_idmapped = wants_idmapped_rootfs(plan);
  int pidfd;
  try {
    // Left again once the process is cloned in them.
    SharedNamespaces shared(plan);
    pidfd = start_process(plan, flags, cgroups, cgroup_gate, container_first_process, report);
  } catch (...) {
    close_bind_sources(plan);
    if (plan.premade_network_fd >= 0) close(plan.premade_network_fd);
    plan.premade_network_fd = -1;
    throw;
  }
  close_bind_sources(plan);
  // The process has its own copy, or never got one.
  if (plan.premade_network_fd >= 0) close(plan.premade_network_fd);
  plan.premade_network_fd = -1;
  if (plan.start_fifo_fd >= 0) close(plan.start_fifo_fd);
  plan.start_fifo_fd = -1;
  return pidfd;
}

UniqueFd open_container_root(const Plan& plan) {
  std::string path = "/proc/" + std::to_string(plan.join_pid) + "/root";
  UniqueFd fd(check(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC), StepId::OpenContainerRoot, "open the container's root"));
  // The pid may have been reused since the pidfd was taken: the pidfd must still be alive.
  check(sys_pidfd_send_signal(plan.join_pidfd, 0, 0), StepId::JoinNamespaces, "join namespaces");
  return fd;
}

void enter_root(int root_fd) {
  check(fchdir(root_fd), "chdir into the container's root");
  check(chroot("."), "chroot into the container's root");
  check(chdir("/"), "chdir /");
}

int start_exec(Plan& plan, Report* report) {
  if (plan.join_pidfd < 0) throw SetupError{"exec without a container pidfd", EBADF};
  CgroupTargets cgroups = CgroupTargets::open_for(plan, false);
  // The container's root as its first process sees it: joining a mount namespace
  // starts at the namespace's own root, which is the container's only if
  // whoever made it was not chrooted.
  UniqueFd root = open_container_root(plan);
  join_namespaces(plan.join_pidfd, namespace_flags(plan.namespaces));
  enter_root(root.get());
  root.reset();  // not inherited by what is cloned next
  // As the container's first process resolved it: in its root, as it is now.
  resolve_user_spec(&plan);
  // The process cloned next appears in the container's PID namespace, where a
  // container process with CAP_SYS_PTRACE could trace it. So the helper, still
  // outside that namespace, takes the container's credentials and capabilities
  // first, and the process is born with them. (The cgroup files were opened
  // above with the helper's own credentials, which the kernel checks.)
  check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "set non-dumpable");
  become_container_user(plan);
  return start_process(plan, 0, cgroups, -1, exec_process, report);
}

}  // namespace
}  // namespace tsc

namespace tsc {

// The one-shot helper's work, with its fds in place: read one plan, clone the
// container (or the exec'd process), report, return the exit status. Run by a
// helper started for one container (argv[1] is the owner fd count: a command
// line that starts one helper per container) and by each worker of the setup
// server (setup_server.h).
int run_one_shot(int owner_fd_count) {
  // A write to a pipe whose reader has exited is an error to handle, not death.
  signal(SIGPIPE, SIG_IGN);
  if (owner_fd_count < 0 || owner_fd_count > kMaxOwnerFds) owner_fd_count = 0;
  // Only the fds the addon gave us stay open here, and a network namespace the setup server
  // made ahead for this worker.
  unsigned first_unused = static_cast<unsigned>(kFirstOwnerFd + owner_fd_count);
  if (first_unused < kPremadeNetworkFd) sys_close_range(first_unused, kPremadeNetworkFd - 1, 0);
  sys_close_range(kPremadeNetworkFd + 1, ~0U, 0);
  int premade_network = take_premade_network_namespace();
  std::string bytes;
  int ignored_fd = -1;
  Report report;
  int pidfd = -1;
  // Node sends it once the state directory and the plan are made, a moment after the clone.
  spin_until_readable(kControlFd);
  long n = receive_message(kControlFd, &bytes, &ignored_fd);
  long long received_at = monotonic_us();
  if (n <= 0) return 2;
  try {
    Plan plan = parse_plan(bytes);
    if (plan.phase_trace) {
      start_phase_marks("plan received", received_at);
      mark_phase("plan parsed");
    }
    open_test_pause_file(plan);
    for (int i = 0; i < owner_fd_count; i++) {
      plan.owner_fds.push_back(kFirstOwnerFd + i);
      fcntl(kFirstOwnerFd + i, F_SETFD, FD_CLOEXEC);
    }
    if (plan.mode == PlanMode::Exec) plan.join_pidfd = kJoinPidfd;
    if (plan.mode == PlanMode::Run) {
      plan.premade_network_fd = premade_network;
      premade_network = -1;
    }
    if (plan.mode == PlanMode::Run && plan.detach) {
      // The monitor sends the report; this process exits and Node reaps it.
      fork_monitor(plan, start_container, start_exec);
      return 0;
    }
    // The first process dies with Node: a crashed Node leaves no container running.
    if (plan.mode == PlanMode::Run) plan.parent_pidfd = sys_pidfd_open(getppid(), 0);
    pidfd = plan.mode == PlanMode::Run ? start_container(plan, &report) : start_exec(plan, &report);
  } catch (const SetupError& e) {
    report.ok = false;
    report.err = e.err;
    report.step_id = e.id;
    report.step = e.step;
  }
  send_phase_marks(kControlFd);
  return send_message(kControlFd, encode_report(report), pidfd) == 0 ? 0 : 1;
}

}  // namespace tsc

int main(int argc, char** argv) {
  using namespace tsc;
  // Once per helper process: the setup server sets no handler and blocks nothing after this,
  // so each worker it clones starts as clean as a helper started for one container.
  reset_all_signals();
  // The program of a pod's pause container (lib/pods/pause.ts), not a setup.
  if (argc > 1 && strcmp(argv[1], "pause") == 0) return run_pause();
  // Started once per Node process: a worker per container or exec runs run_one_shot.
  if (argc > 1 && strcmp(argv[1], kSetupServerArg) == 0) return run_setup_server(run_one_shot);
  return run_one_shot(argc > 1 ? atoi(argv[1]) : 0);
}
