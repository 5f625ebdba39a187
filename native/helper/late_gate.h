// A pool member (Container.pool): the container's first process is made ahead, with its
// namespaces, cgroups, id maps, root and loopback in place, and waits at this gate for what
// only pool.spawn() knows: argv, env, cwd, user, terminal and stdio. It waits on a SEQPACKET
// socket whose other end Node holds (passed to the helper as an owner fd; plan key late.gate),
// receives one message with that "late spec" (plan keys: arg, env, cwd, uid, gid, group,
// user.spec, user.home, tty*) and the three stdio fds, then goes on exactly as a cold
// container's process does. The socket is close-on-exec: end of file at Node means the program
// runs; a failure before exec is sent on it as write_failure() spells it ("<errno> <step id>
// <step>"), and a terminal's master as a "terminal" message.
#pragma once

#include "common/plan.h"

namespace tsc {

// The late gate's socket among the plan's owner fds; -1 for a process that is no pool member.
int late_gate_fd(const Plan& plan);

// In the container's first process: tells the helper it is made ("created" on failure_fd, which
// is closed), closes every fd but stdio, the gate and the parent's pidfd, waits for the late spec
// and takes it: plan's process fields are replaced and its stdio fds put on 0, 1 and 2.
// Exits quietly when Node closes the gate without a spec (the member was destroyed); throws
// SetupError on a malformed spec.
void pass_late_gate(Plan* plan, int failure_fd, int gate_fd);

}  // namespace tsc
