// An fd with exactly one owner: closed on every way out of its scope, throws
// included, unless release() hands it on. Setup code that opens several fds
// and may fail between them then needs no close() on each error path.
#pragma once

#include <unistd.h>

#include <cerrno>

namespace tsc {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  // From check(), which returns the system call's long.
  explicit UniqueFd(long fd) : fd_(static_cast<int>(fd)) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  // Gives the fd up to a new owner (a call that closes it, the caller).
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the fd held (keeping errno, which may still be reported) and holds `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      int saved = errno;
      close(fd_);
      errno = saved;
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace tsc
