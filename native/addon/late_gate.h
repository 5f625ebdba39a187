// Node's end of a pool member's late gate (helper/late_gate.h).
#pragma once

#include <napi.h>

namespace tsc {

// lateGatePair() → [nodeEnd, memberEnd]: a SEQPACKET socket pair, close-on-exec; Node's end
//   takes only messages whose sender it can name (SO_PASSCRED). memberEnd goes to the helper
//   as an owner fd, and Node closes its copy once the helper reported.
// lateGateSend(fd, spec, [stdin, stdout, stderr]): the late spec (plan entries) with the three
//   stdio fds; throws an errno error (EPIPE: the member is gone).
// lateGateAwait(fd, pid) → Promise<{ ok, errno, stepId, step, terminalFd }>, on the thread
//   pool: reads until end of file (the program runs: ok) or a failure message; a terminal's
//   master comes as terminalFd, taken only from process pid (a failure may come from the
//   program's process forked by a tiny init as well).
void InitLateGate(Napi::Env env, Napi::Object exports);

}  // namespace tsc
