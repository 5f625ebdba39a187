// Asking ext4 to spread a directory's subdirectories over the filesystem.
//
// ext4 places a new directory in its parent's block group, and a new file in its directory's
// (the Orlov allocator), unless the parent is the filesystem's root or carries the "top of a
// directory hierarchy" flag (FS_TOPDIR_FL, chattr +T): then each subdirectory goes to a group
// of its own with the most room. lib/state/spread-homes.ts sets that flag on the parent of a
// few directories it makes once, for new directories to be made in, in turn.
#pragma once

#include <napi.h>

namespace tsc {

// setTopDirectoryFlag(fd) → boolean: sets FS_TOPDIR_FL on the directory open as fd (keeping its
//   other flags); false when its filesystem has no such flag (tmpfs, xfs, btrfs...) or it cannot
//   be set. Never throws for the filesystem's answer.
// moveIntoPlace(from, toDirFd, to): renameat2(2) of the path `from` to `to` in the directory
//   open as toDirFd, RENAME_NOREPLACE: a directory made elsewhere takes a name only if it is
//   free, as its mkdir there would have. Throws an errno error (EEXIST when it is taken).
void InitDirectorySpread(Napi::Env env, Napi::Object exports);

}  // namespace tsc
