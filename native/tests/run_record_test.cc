// The run record and the log frame the monitor writes (protocol/state-files.ts), written into
// a temporary state directory and read back as text.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "common/generated/state_files.h"
#include "monitor/log_writer.h"
#include "monitor/run_record.h"
#include "tests/harness.h"

namespace {

// A fresh directory under $TMPDIR (or /tmp), removed with its files when the test ends.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/tsc-native-test-XXXXXX";
    path_ = mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TemporaryDirectory() {
    if (path_.empty()) return;
    std::string command = "rm -rf '" + path_ + "'";
    if (system(command.c_str()) != 0) fprintf(stderr, "could not remove %s\n", path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_text(const std::string& path) {
  std::string text;
  FILE* file = fopen(path.c_str(), "rb");
  if (!file) return "<missing>";
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  fclose(file);
  return text;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

TEST(run_record_of_a_running_container) {
  TemporaryDirectory dir;
  EXPECT_TRUE(!dir.path().empty());
  tsc::RunRecord record;
  record.pid = 4242;
  record.start_time = "123456";
  record.started_at_ms = 1700000000000;
  record.monitor_pid = 4241;
  record.monitor_start_time = "123450";
  tsc::write_run_record(dir.path(), record);
  EXPECT_EQ(read_text(dir.path() + "/" + tsc::kStateFileRun),
            std::string("{\"pid\":4242,\"startTime\":\"123456\",\"startedAt\":1700000000000,\"finishedAt\":null,"
                        "\"exited\":false,\"exitCode\":null,\"signal\":null,\"restartCount\":0,"
                        "\"monitorPid\":4241,\"monitorStartTime\":\"123450\"}\n"));
  // Through a temporary file put into place, and no lock file left: the lock is the directory's.
  EXPECT_TRUE(!exists(dir.path() + "/.run.json." + std::to_string(getpid())));
  EXPECT_TRUE(!exists(dir.path() + "/write.lock"));
}

TEST(run_record_waits_for_the_writer_holding_the_directory) {
  TemporaryDirectory dir;
  int held = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_TRUE(held >= 0 && flock(held, LOCK_EX) == 0);
  pid_t writer = fork();
  if (writer == 0) {
    // Its copy of the holder's fd would keep the lock held: the writer is another holder.
    close(held);
    tsc::RunRecord record;
    record.pid = 1;
    tsc::write_run_record(dir.path(), record);
    _exit(0);
  }
  EXPECT_TRUE(writer > 0);
  usleep(100 * 1000);
  // Another writer holds the directory: the record is not written yet.
  EXPECT_TRUE(!exists(dir.path() + "/run.json"));
  close(held);
  int status = 0;
  EXPECT_TRUE(waitpid(writer, &status, 0) == writer && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(read_text(dir.path() + "/run.json").find("\"pid\":1,") != std::string::npos);
}

TEST(run_record_of_an_exit_and_of_a_signal) {
  TemporaryDirectory dir;
  tsc::RunRecord record;
  record.pid = 7;
  record.exited = true;
  record.exit_code = 3;
  record.finished_at_ms = 5;
  record.restart_count = 2;
  tsc::write_run_record(dir.path(), record);
  std::string text = read_text(dir.path() + "/run.json");
  EXPECT_TRUE(text.find("\"exited\":true,\"exitCode\":3,\"signal\":null,\"restartCount\":2") != std::string::npos);
  record.signal = 9;
  tsc::write_run_record(dir.path(), record);
  text = read_text(dir.path() + "/run.json");
  EXPECT_TRUE(text.find("\"exitCode\":null,\"signal\":9") != std::string::npos);
}

TEST(run_record_escapes_its_strings) {
  TemporaryDirectory dir;
  tsc::RunRecord record;
  record.error = std::string("exec \"/bin/x\\y\": no\nsuch\x01");
  tsc::write_run_record(dir.path(), record);
  std::string text = read_text(dir.path() + "/run.json");
  EXPECT_TRUE(text.find(",\"error\":\"exec \\\"/bin/x\\\\y\\\": no\\u000asuch\\u0001\"}\n") != std::string::npos);
}

TEST(run_record_into_a_directory_that_is_gone_writes_nothing) {
  std::string gone;
  {
    TemporaryDirectory dir;
    gone = dir.path();
  }
  tsc::write_run_record(gone, tsc::RunRecord{});
  EXPECT_TRUE(!exists(gone));
}

TEST(process_start_time_of_this_process) {
  std::string start = tsc::process_start_time(getpid());
  EXPECT_TRUE(!start.empty());
  EXPECT_TRUE(start.find_first_not_of("0123456789") == std::string::npos);
  EXPECT_EQ(tsc::process_start_time(getpid()), start);
}

TEST(log_frames_as_declared) {
  TemporaryDirectory dir;
  std::string path = dir.path() + "/" + tsc::kStateFileLog;
  tsc::LogWriter log(path, 1 << 20, 2);
  EXPECT_TRUE(log.open());
  log.append(tsc::kLogStreamStdout, "hello", 5);
  log.append(tsc::kLogStreamStderr, "a\nb", 3);
  std::string text = read_text(path);
  // "stdout <ms> 5\nhello" then "stderr <ms> 3\na\nb".
  size_t first_newline = text.find('\n');
  std::string first = text.substr(0, first_newline);
  EXPECT_EQ(first.substr(0, 7), std::string("stdout "));
  EXPECT_EQ(first.substr(first.rfind(' ')), std::string(" 5"));
  EXPECT_EQ(text.substr(first_newline + 1, 5), std::string("hello"));
  std::string rest = text.substr(first_newline + 6);
  EXPECT_EQ(rest.substr(0, 7), std::string("stderr "));
  EXPECT_EQ(rest.substr(rest.find('\n') + 1), std::string("a\nb"));
}
