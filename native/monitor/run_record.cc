#include "monitor/run_record.h"

#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/generated/state_files.h"
#include "common/replace_file.h"

namespace tsc {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

namespace {

std::string number_or_null(long long value, bool present) { return present ? std::to_string(value) : "null"; }

// The field names and their order are declared in protocol/state-files.ts (RunRecord on the
// TypeScript side is generated from the same list).
std::string field(const char* name, const std::string& json_value, bool first = false) {
  return (first ? "\"" : ",\"") + std::string(name) + "\":" + json_value;
}

std::string to_json(const RunRecord& r) {
  std::string json = "{";
  json += field(kRunRecordPid, std::to_string(r.pid), true);
  json += field(kRunRecordStartTime, json_string(r.start_time));
  json += field(kRunRecordStartedAt, number_or_null(r.started_at_ms, r.started_at_ms >= 0));
  json += field(kRunRecordFinishedAt, number_or_null(r.finished_at_ms, r.finished_at_ms >= 0));
  json += field(kRunRecordExited, r.exited ? "true" : "false");
  json += field(kRunRecordExitCode, number_or_null(r.exit_code, r.exited && r.signal == 0));
  json += field(kRunRecordSignal, number_or_null(r.signal, r.exited && r.signal != 0));
  json += field(kRunRecordRestartCount, std::to_string(r.restart_count));
  json += field(kRunRecordMonitorPid, std::to_string(r.monitor_pid));
  json += field(kRunRecordMonitorStartTime, json_string(r.monitor_start_time));
  if (!r.error.empty()) json += field(kRunRecordError, json_string(r.error));
  return json + "}\n";
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Whole to a temporary file put in place of the old one (exchanged, so that ext4 does not
// flush it to disk): a reader never sees half of it. Relative to the directory's fd. False when
// the file could not be written (the directory deleted while the container ran, a full disk).
bool write_state_file_locked(int dir_fd, const char* name, const std::string& bytes) {
  std::string temporary = std::string(".") + name + "." + std::to_string(getpid());
  // O_NOFOLLOW: a link planted in the state directory is never written through.
  int fd = openat(dir_fd, temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool written = write_all(fd, bytes);
  close(fd);
  if (written && replace_file_at(dir_fd, temporary.c_str(), name) == 0) return true;
  unlinkat(dir_fd, temporary.c_str(), 0);
  return false;
}

}  // namespace

void write_run_record(const std::string& state_dir, const RunRecord& record) {
  write_state_file(state_dir, kStateFileRun, to_json(record));
}

void write_state_file(const std::string& state_dir, const char* name, const std::string& bytes) {
  int dir_fd = open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  // The directory may be gone: the container was deleted while it ran.
  if (dir_fd < 0) return;
  write_state_file_at(dir_fd, name, bytes);
  close(dir_fd);
}

bool write_state_file_at(int dir_fd, const char* name, const std::string& bytes) {
  // Writers of the directory's records go one at a time: a flock of the directory itself
  // (the TypeScript side takes it too), held through dir_fd's open file until it is closed.
  while (flock(dir_fd, LOCK_EX) < 0) {
    if (errno != EINTR) return false;
  }
  return write_state_file_locked(dir_fd, name, bytes);
}

bool write_run_record_at(int dir_fd, const RunRecord& record) { return write_state_file_at(dir_fd, kStateFileRun, to_json(record)); }

std::string process_start_time(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buffer[1024];
  ssize_t n = read(fd, buffer, sizeof buffer - 1);
  close(fd);
  if (n <= 0) return "";
  std::string stat(buffer, static_cast<size_t>(n));
  // The command name may hold spaces and parentheses: fields count from the last ')'.
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return "";
  size_t pos = close_paren + 2;  // field 3
  for (int field = 3; field < 22 && pos != std::string::npos; field++) {
    pos = stat.find(' ', pos);
    if (pos != std::string::npos) pos++;
  }
  if (pos == std::string::npos) return "";
  return stat.substr(pos, stat.find(' ', pos) - pos);
}

long long now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace tsc
