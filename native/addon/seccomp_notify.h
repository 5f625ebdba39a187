// Seccomp user notifications answered from JavaScript: the listener fd is
// watched by libuv, each notification is received and handed to a callback,
// and the answer (continue, an errno, or a return value) is sent back.
#pragma once

#include <napi.h>

namespace tsc {

// watchSeccomp(listenerFd, onNotification({ id, pid, nr, arch, instructionPointer, args }), onClose())
//   → handle with close(); respondSeccomp(fd, id, { error, value, continue }); seccompIdValid(fd, id).
void InitSeccompNotify(Napi::Env env, Napi::Object exports);

}  // namespace tsc
