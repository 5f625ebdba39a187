#include "helper/phase_marks.h"

#include "common/control_channel.h"
#include "common/monotonic_clock.h"

namespace tsc {

namespace {

bool enabled = false;
std::string marks;

void append(const char* phase, long long at_us) {
  marks += phase;
  marks += '\t';
  marks += std::to_string(at_us);
  marks += '\n';
}

}  // namespace

void start_phase_marks(const char* first, long long first_at) {
  enabled = true;
  marks.clear();
  append(first, first_at);
}

void forget_phase_marks() { marks.clear(); }

void mark_phase(const char* phase) {
  if (enabled) append(phase, monotonic_us());
}

void add_phase_marks(const std::string& lines) {
  if (enabled) marks += lines;
}

void send_phase_marks(int channel_fd) {
  if (!enabled || marks.empty()) return;
  send_message(channel_fd, kPhaseMarksMessage + marks, -1);
  marks.clear();
}

}  // namespace tsc
