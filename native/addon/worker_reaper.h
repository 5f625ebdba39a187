// Reaping a setup worker after its report, off the path to it: once a worker has reported,
// its exit status says nothing more, and waiting for its exit (the teardown of a process)
// would only delay the report reaching JavaScript.
#pragma once

#include <sys/types.h>

namespace tsc {

// Reaps `pid`, a child of this process that is exiting or about to exit, on a thread of the
// addon's own (started at the first call). Never waits for any other process.
void reap_worker_later(pid_t pid);

}  // namespace tsc
