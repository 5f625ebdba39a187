// The network of a container with its own network namespace: only lo, up.
#pragma once

namespace tsc {

void bring_up_loopback();

}  // namespace tsc
