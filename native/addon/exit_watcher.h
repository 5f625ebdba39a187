// Seeing a container process exit from Node: its pidfd becomes readable,
// libuv's poll reports it, and waitid(P_PIDFD) reaps exactly that process.
// No SIGCHLD handler, no waitpid(-1).
#pragma once

#include <napi.h>

namespace tsc {

// watchExit(pidfd, callback(exitCode|null, signalNumber|null, { userMicros, systemMicros, maxRssKib }), reap = true)
// → handle with close(), ref() and unref().
void InitExitWatcher(Napi::Env env, Napi::Object exports);

}  // namespace tsc
