// Every signal at its default disposition and none blocked, as the helper starts: what it
// inherits from Node (which ignores SIGPIPE and SIGXFSZ) and from whatever started Node must
// not reach a container's program, since exec keeps ignored signals ignored.
#pragma once

namespace tsc {

// Through the kernel's rt_sigaction, not glibc's sigaction: glibc refuses the two real-time
// signals it keeps for itself (32 and 33), which posix_spawn's POSIX_SPAWN_SETSIGDEF leaves as
// they were too, yet a parent may have them ignored and a program of another C library may
// use them. Called once per helper process: the setup server's workers are its clones and
// inherit the result.
void reset_all_signals();

}  // namespace tsc
