#include "monitor/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/generated/state_files.h"
#include "monitor/run_record.h"

namespace tsc {

namespace {

// "<stream> <unix ms> <length>\n", as protocol/state-files.ts declares it.
std::string frame_header(const char* stream, size_t length) {
  return std::string(stream) + kLogFrameSeparator + std::to_string(now_ms()) + kLogFrameSeparator +
         std::to_string(length) + kLogFrameTerminator;
}

}  // namespace

LogWriter::LogWriter(std::string path, unsigned long long max_size, unsigned max_files)
    : path_(std::move(path)), max_size_(max_size), max_files_(max_files == 0 ? 1 : max_files) {}

LogWriter::~LogWriter() {
  if (fd_ >= 0) close(fd_);
}

std::string LogWriter::rotated_name(unsigned index) const {
  return path_ + "." + std::to_string(index);
}

bool LogWriter::open() {
  if (fd_ >= 0) close(fd_);
  // The state directory is the monitor's own: a link planted at the log's name is refused.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd_ < 0) return false;
  struct stat st;
  size_ = fstat(fd_, &st) == 0 ? static_cast<unsigned long long>(st.st_size) : 0;
  return true;
}

// container.log.(n-1) -> .n down to container.log -> .1 (each rename replaces
// the older file atomically), then a fresh container.log. A reader holding
// the old file reads it to its end: nothing is written to it any more.
bool LogWriter::rotate() {
  if (max_files_ > 1) {
    for (unsigned i = max_files_ - 1; i >= 2; i--) {
      if (rename(rotated_name(i - 1).c_str(), rotated_name(i).c_str()) != 0 && errno != ENOENT) return false;
    }
    if (rename(path_.c_str(), rotated_name(1).c_str()) != 0) return false;
  } else if (unlink(path_.c_str()) != 0) {
    return false;
  }
  close(fd_);
  fd_ = -1;
  size_ = 0;
  return open();
}

// Writes the whole frame or nothing: a part written before a failure (a full
// disk) is cut off again, so the file always ends at a frame's end.
bool LogWriter::write_frame(const std::string& frame) {
  if (fd_ < 0 && !open()) return false;
  if (size_ > 0 && size_ + frame.size() > max_size_ && !rotate()) return false;
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = write(fd_, frame.data() + done, frame.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (done > 0 && ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        // The file now ends inside a frame: start a new one rather than append after it.
        rotate();
      }
      return false;
    }
    done += static_cast<size_t>(n);
  }
  size_ += frame.size();
  return true;
}

bool LogWriter::report_dropped() {
  if (dropped_ == 0) return true;
  std::string count = std::to_string(dropped_);
  if (!write_frame(frame_header(kLogStreamDropped, count.size()) + count)) return false;
  dropped_ = 0;
  return true;
}

void LogWriter::append(const char* stream, const char* data, size_t length) {
  // The loss is said where it happened, before any later output.
  if (!report_dropped()) {
    dropped_ += length;  // a full disk loses output, not the container
    return;
  }
  std::string frame = frame_header(stream, length);
  frame.append(data, length);
  if (!write_frame(frame)) dropped_ += length;
}

}  // namespace tsc
