// A container's state directory made in one call: the steps ContainerDirectory.create takes
// before it publishes the directory under the container's id.
//
// From JavaScript each step was a call of its own, and each name was reached through
// /proc/self/fd/<fd>/<name> (Node has no *at calls), a procfs lookup per step: about 0.1 ms
// of a spawn's way to its helper's plan went here. Here every step is relative to the fd.
#pragma once

#include <napi.h>

namespace tsc {

// makeStateDirectory(rootFd, making, unpublishedLock, lock, files: [name, data][], mode)
//   → { lockFd, dev, ino }: in the state root open as rootFd, makes the directory `making`
//   (mode), puts in it a lock file made as `unpublishedLock`, locked (flock) and renamed to
//   `lock`, and each of `files` written new. Nothing is published: the caller renames `making`
//   into place (renameAt). On failure, an errno error whose `step` is the step's name
//   ("make the state directory", "open the state directory", "make the lock", "write <name>")
//   and `file` the name in `making` it failed on (absent for the directory itself); the fds it
//   opened are closed and what it made in `making` stays, for the caller to remove.
// renameAt(dirfd, from, to): renameat(2) of `from` to `to`, both in the directory open as dirfd.
//   Throws an errno error.
void InitStateDirectory(Napi::Env env, Napi::Object exports);

}  // namespace tsc
