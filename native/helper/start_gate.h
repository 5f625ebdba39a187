// create() then start(): the container's first process, with everything made,
// waits on a FIFO in the container's state directory until start() opens it
// for reading, from this Node process or any other. A FIFO needs no process to
// hold it open in between, so the maker may exit after create().
#pragma once

#include "common/plan.h"

namespace tsc {

// In the helper, before cloning: an O_PATH fd of the FIFO for the child to
// reopen once it is inside the container (the host path is out of its reach).
int open_start_fifo(const std::string& path);

// In the container's process: blocks until start() opens the FIFO, then tells
// it so with one byte. Throws SetupError{"wait for start", errno}.
void wait_for_start(int fifo_fd);

// The container's first process dies with its parent (Node, or the monitor of
// a detached container): PR_SET_PDEATHSIG, set again after every change of
// credentials (which clears it), and a check that the parent is still there.
void die_with_parent(int parent_pidfd);

}  // namespace tsc
