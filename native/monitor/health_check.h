// The health checks of a detached container, run by its monitor so that they go on
// after the Node process that made it is gone. A check is an exec into the container:
// the monitor forks, and the child does what the one-shot helper does for exec() (join
// the namespaces and cgroups, take the container's credentials, clone the process as
// the monitor's child). The rules (docker's, as lib/health/health-state.ts has them):
// the first check one interval after the run starts, the next one interval after the
// last ended; exit 0 is healthy; non-zero, or outliving the timeout (then killed), is a
// failure; `retries` failures in a row make it unhealthy, but not those in the start
// period. Each result goes to health.json in the state directory, for any process.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <deque>
#include <string>
#include <vector>

#include "common/control_channel.h"
#include "common/plan.h"

namespace tsc {

// Starts an exec process from its plan (the helper's own exec path); returns its pidfd.
using StartExec = int (*)(Plan& plan, Report* report);

class HealthChecker {
 public:
  HealthChecker(const Plan& run_plan, StartExec start_exec);
  bool enabled() const { return enabled_; }

  // A run of the container begins (its main process, and its pidfd for joining it). With
  // `wait_for_start` (create(): the program waits for start()), the clock starts once the
  // state directory says it started.
  void begin_run(pid_t main_pid, int main_pidfd, bool wait_for_start);
  // The run ended: a check still running is killed; no more until the next begin_run().
  void end_run();

  // For the monitor's poll loop: how long it may sleep (-1: no limit), and the fds to watch.
  int poll_timeout_ms() const;
  void add_poll_fds(struct pollfd* fds, int* count) const;
  // After poll: reads output, reaps a finished check, kills one past its timeout, starts the next.
  void service(const struct pollfd* fds, int count);

 private:
  struct Result {
    long long start_ms = 0, end_ms = 0;
    int exit_code = -1;
    std::string output;
  };

  void start_check();
  bool container_frozen() const;
  void kill_check();
  void reap_killed();
  void finish_check(int exit_code, const std::string& output_override);
  void read_output(bool to_end);
  void apply(const Result& result);
  void write_record() const;

  bool enabled_ = false;
  Plan exec_plan_;
  StartExec start_exec_;
  std::string state_dir_;
  std::vector<std::string> cgroup_dirs_;
  unsigned interval_ms_, timeout_ms_, retries_, start_period_ms_;

  // The run being checked.
  bool running_ = false;
  bool waiting_for_start_ = false;
  pid_t main_pid_ = 0;
  int main_pidfd_ = -1;
  long long run_started_ms_ = 0;
  long long next_check_ms_ = 0;

  // The check in flight.
  int check_pidfd_ = -1;
  int output_fd_ = -1;
  long long check_started_ms_ = 0;
  std::string output_;
  // Killed checks not yet reaped: one in a frozen v1 cgroup dies only once thawed, and the
  // monitor must not block on it meanwhile.
  std::vector<int> killed_pidfds_;

  // What health.json says.
  std::string status_ = "starting";
  unsigned failing_streak_ = 0;
  std::deque<Result> log_;
};

}  // namespace tsc
