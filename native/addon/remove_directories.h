// Removal of empty directories (a container's cgroups) off the event loop, in one piece of work
// on libuv's pool.
//
// A container's cgroups are a directory in each hierarchy (nine on a hybrid host). Removed on
// Node's thread, one rmdirSync each, they cost it about 0.15 ms right after the container's
// exit, while Node also ends the container's process; on the pool the removals overlap that.
#pragma once

#include <napi.h>

namespace tsc {

// removeDirectories(paths, untilFailure?) → Promise<number[]>: rmdir(2) of each path in the
//   order given, on the thread pool; resolves with each one's outcome, 0 or its errno (ENOENT:
//   gone already, EBUSY: a process is still in it). With untilFailure, the paths after the
//   first that fails (other than ENOENT) are not tried and report ECANCELED: a container's
//   primary cgroup, last in its list, then goes only after every other. Never rejects for a
//   path; a bad argument throws.
// new RemovalCanceller(), passed as the third argument: its cancel() returns once no rmdir of
//   that call runs and none will start (the rest report ECANCELED), with each path's outcome
//   so far. A removal finished on Node's thread cancels the one on the pool first and takes
//   its outcomes: what the pool removed is never removed again by name, which would remove a
//   directory of the same name made since (the next container of the same id).
void InitRemoveDirectories(Napi::Env env, Napi::Object exports);

}  // namespace tsc
