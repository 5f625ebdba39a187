// A detached container's log (container.log in its state directory), as its
// monitor writes it: frames of "<stream> <unix ms> <length>\n" followed by
// exactly <length> bytes (lib/state/log-file.ts reads them).
//
// The log is capped: when the next frame would take the file past max_size,
// the file is rotated (container.log -> container.log.1 -> .2 ..., keeping
// max_files files in all, the oldest removed) and the frame starts the new
// one. A frame is never split between files, so rotation loses no part of a
// frame. Output that cannot be written (a full disk, a failed rotation) is
// counted, and a "dropped" frame, whose bytes are the count in decimal, says
// so in the log as soon as writing works again.
#pragma once

#include <string>

namespace tsc {

class LogWriter {
 public:
  LogWriter(std::string path, unsigned long long max_size, unsigned max_files);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Opens (or creates) the log for appending; false with errno set when it cannot.
  bool open();
  // Appends one frame of output from stream ("stdout" or "stderr").
  void append(const char* stream, const char* data, size_t length);
  // Writes the "dropped" frame for output lost since the last one, if any; false when it
  // cannot be written yet (it is tried again before the next output).
  bool report_dropped();

 private:
  bool write_frame(const std::string& frame);
  bool rotate();
  std::string rotated_name(unsigned index) const;

  std::string path_;
  unsigned long long max_size_;
  unsigned max_files_;
  int fd_ = -1;
  unsigned long long size_ = 0;     // bytes in the current file
  unsigned long long dropped_ = 0;  // output bytes lost since the last "dropped" frame
};

}  // namespace tsc
