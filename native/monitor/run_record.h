// The record of a detached container's current or last run (run.json in its
// state directory), written by its monitor and read by any process through
// Container.list() or Container.get(). Written under a flock of the state
// directory itself, whole to a temporary file put in place of the old one, so a
// reader never sees half of it.
#pragma once

#include <sys/types.h>

#include <string>

namespace tsc {

struct RunRecord {
  pid_t pid = 0;
  std::string start_time;        // field 22 of /proc/<pid>/stat: tells a reused pid apart
  long long started_at_ms = -1;  // -1: not yet started (create() waits for start())
  long long finished_at_ms = -1;
  bool exited = false;
  int exit_code = 0;  // when it exited normally
  int signal = 0;     // when a signal ended it
  unsigned restart_count = 0;
  pid_t monitor_pid = 0;
  std::string monitor_start_time;
  std::string error;  // a restart that could not start the container
};

void write_run_record(const std::string& state_dir, const RunRecord& record);

// write_run_record into the state directory open as `dir_fd` (its flock is then held by that
// fd's open file until the caller closes it). False when run.json could not be written.
bool write_run_record_at(int dir_fd, const RunRecord& record);

// Writes one file of the state directory (run.json, health.json) the same way: under
// the directory's flock, whole to a temporary file put in place of the old one.
void write_state_file(const std::string& state_dir, const char* name, const std::string& bytes);
bool write_state_file_at(int dir_fd, const char* name, const std::string& bytes);

// A JSON string literal of text (quotes, backslashes and control characters escaped).
std::string json_string(const std::string& text);

// The start time of a process in clock ticks since boot, or "" once it is gone.
std::string process_start_time(pid_t pid);

long long now_ms();

}  // namespace tsc
