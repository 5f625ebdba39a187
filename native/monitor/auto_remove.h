// run -d --rm: the monitor of a detached container removes it once it has
// stopped for good, as `ts-container delete` would: its writable layer with the
// layer's record under the data root, then its state directory.
#pragma once

#include <sys/stat.h>

#include "common/plan.h"

namespace tsc {

// The state directory's identity, taken when the monitor starts: only that
// directory is ever removed, never one made later under the same name.
struct StateDirIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  bool known = false;
};

StateDirIdentity state_dir_identity(const Plan& plan);

// Each tree is first renamed to the name the sweeps finish (containers/.removing/
// and <state root>/.removing-*), so the id is free at once and a monitor killed
// half way leaves nothing that the next sweep misses. Failures are left to the sweeps.
void remove_stopped_container(const Plan& plan, const StateDirIdentity& identity);

}  // namespace tsc
