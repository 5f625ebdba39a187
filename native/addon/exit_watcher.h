// Seeing a container process exit from Node: its pidfd becomes readable,
// libuv's poll reports it, and waitid(P_PIDFD) reaps exactly that process.
// No SIGCHLD handler, no waitpid(-1).
#pragma once

#include <napi.h>

namespace tsc {

// watchExit(pidfd, callback(exitCode|null, signalNumber|null, { userMicros, systemMicros, maxRssKib, files?, recorded? }),
//           reap = true, bookkeeping?: { readFiles?: string[], runRecord?: { dir, identity, pid, startTime, startedAt } })
// → handle with close(), ref() and unref(). With `bookkeeping`, once the process is reaped and
// before the callback: each of readFiles is read (`files`: its text, or null), and run.json is
// written in the state directory `dir` when it is still the one of that identity ("dev:ino"),
// as the monitor writes it (`recorded`: whether it was).
void InitExitWatcher(Napi::Env env, Napi::Object exports);

}  // namespace tsc
