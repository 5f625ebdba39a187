// Removal of a directory tree off the event loop, in one piece of work on libuv's pool.
//
// fs.promises.rm walks a tree with one asynchronous call per lstat, readdir, unlink and rmdir,
// each of which returns to the event loop: for the few files of a destroyed container's state
// directory and writable layer, that is more work on Node's thread than the removal itself.
#pragma once

#include <napi.h>

namespace tsc {

// removeTree(path) → Promise<void>: removes path and all below it on the thread pool, never
//   following a symbolic link (each directory is opened with O_NOFOLLOW relative to its
//   parent, each entry removed relative to its directory). A path already gone resolves; a
//   failure rejects with an errno error (EACCES, EBUSY...) and leaves what was not removed.
void InitRemoveTree(Napi::Env env, Napi::Object exports);

}  // namespace tsc
