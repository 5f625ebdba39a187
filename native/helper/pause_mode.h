// `ts-container-helper pause`: the program of a pod's pause container. It holds
// the pod's namespaces by living in them, doing nothing, until SIGTERM or SIGINT.
#pragma once

namespace tsc {

// Blocks until SIGTERM or SIGINT arrives, then returns the exit status (0).
int run_pause();

}  // namespace tsc
