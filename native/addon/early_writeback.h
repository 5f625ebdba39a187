// Writeback started early for a file written in one long stream (a blob the store fsyncs once
// complete): without it every dirty page is still in memory at the fsync, which then waits
// for all of them; started as each stretch is written, the disk works while the download goes
// on, and the fsync waits only for the last stretch.
#pragma once

#include <napi.h>

namespace tsc {

// startWriteback(fd, offset, length) → Promise<void>: sync_file_range(SYNC_FILE_RANGE_WRITE)
//   on the thread pool (submitting the I/O may block briefly); it does not wait for the disk
//   and guarantees nothing (the fsync does). Rejects with an errno error.
void InitEarlyWriteback(Napi::Env env, Napi::Object exports);

}  // namespace tsc
