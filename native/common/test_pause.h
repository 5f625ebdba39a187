// A test hook: with the plan's test.pause set to a step's name, the helper
// writes that name and its pid to test.pause_file on reaching the step and stops there
// until killed, so a crash test can kill it at exactly that step.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <initializer_list>
#include <string>

#include "common/plan.h"

namespace tsc {

// The pause file, opened while the helper still sees the host's filesystem (an
// exec helper pauses after it has entered the container's root).
inline int& test_pause_fd() {
  static int fd = -1;
  return fd;
}

inline void open_test_pause_file(const Plan& plan) {
  if (plan.test_pause.empty() || plan.test_pause_file.empty()) return;
  test_pause_fd() = open(plan.test_pause_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

inline void pause_for_test(const Plan& plan, const char* step) {
  if (plan.test_pause != step || plan.test_pause_file.empty()) return;
  int fd = test_pause_fd();
  if (fd < 0) fd = open(plan.test_pause_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string line = std::string("helper:") + step + " " + std::to_string(getpid()) + "\n";
    ssize_t ignored = ftruncate(fd, 0);
    ignored = pwrite(fd, line.data(), line.size(), 0);
    (void)ignored;
  }
  for (;;) pause();
}

// A pause that the test ends itself, for races it drives: on reaching the step,
// the helper makes the FIFO "<pause file>.resume", writes the pause file, and
// waits until the test writes to the FIFO. Rootfs steps run after the staging
// directory (/tmp) is covered, so the pause file's directory is opened first,
// by open_test_pause_directory (when the plan pauses at one of `steps`), while
// the host's paths are still in view; the caller closes it.
inline int open_test_pause_directory(const Plan& plan, std::initializer_list<const char*> steps) {
  bool asked = false;
  for (const char* step : steps) asked = asked || plan.test_pause == step;
  if (!asked || plan.test_pause_file.empty()) return -1;
  size_t slash = plan.test_pause_file.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : plan.test_pause_file.substr(0, slash + 1);
  return open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

inline void pause_until_resumed(const Plan& plan, int directory_fd, const char* step) {
  if (directory_fd < 0 || plan.test_pause != step) return;
  size_t slash = plan.test_pause_file.find_last_of('/');
  std::string name = slash == std::string::npos ? plan.test_pause_file : plan.test_pause_file.substr(slash + 1);
  std::string resume = name + ".resume";
  if (mkfifoat(directory_fd, resume.c_str(), 0600) == 0) {
    int fd = openat(directory_fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      std::string line = std::string("helper:") + step + " " + std::to_string(getpid()) + "\n";
      ssize_t ignored = write(fd, line.data(), line.size());
      (void)ignored;
      close(fd);
    }
    int fifo = openat(directory_fd, resume.c_str(), O_RDONLY | O_CLOEXEC);
    if (fifo >= 0) {
      char byte;
      ssize_t ignored = read(fifo, &byte, 1);
      (void)ignored;
      close(fifo);
    }
    unlinkat(directory_fd, resume.c_str(), 0);
  }
}

}  // namespace tsc
