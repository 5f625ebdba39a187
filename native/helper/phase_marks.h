// The helper's part of the opt-in phase trace (lib/process/phase-trace.ts, read by
// bench/phases.ts). Node's marks end where it hands the helper its plan and start again at
// the helper's report; what lies between, the worker's steps and those of the process it
// clones, is marked here when the plan asks for it (phase_trace), and only then.
//
// A mark is a step's name and when it ended on CLOCK_MONOTONIC, the clock Node's
// process.hrtime reads. The cloned process starts with none of the worker's marks, and sends
// its own to the worker on its channel just before it execs; the worker sends all of them to
// Node just before its report. Nothing is sent, and nothing is kept, without the trace.
#pragma once

#include <string>

#include "common/control_channel.h"

namespace tsc {

// Turns the trace on in this process (the worker, once its plan asked for it), with a first
// mark of a step that ended at `first_at` (monotonic_us(), common/monotonic_clock.h: the
// plan's arrival, before it was read).
void start_phase_marks(const char* first, long long first_at);

// In the cloned process: its marks start empty (it inherited the worker's).
void forget_phase_marks();

// Marks the end of `phase` now, when the trace is on.
void mark_phase(const char* phase);

// Adds marks received from the cloned process (the text after kPhaseMarksMessage,
// common/control_channel.h).
void add_phase_marks(const std::string& lines);

// Sends this process's marks on `channel_fd` as one message, when the trace is on and there
// are any; a failure to send loses them, nothing else.
void send_phase_marks(int channel_fd);

}  // namespace tsc
