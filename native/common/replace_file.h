// Replacing a small file whole, so that a reader sees the old bytes or the new ones, never a
// part, and without waiting for the disk. A plain rename over an existing file makes ext4
// (auto_da_alloc, its default) start writing the new file's data out at once, about 1.5 ms
// per rename; an exchange of the two names is not such a replace, so it costs what a rename
// costs elsewhere. Afterwards the temporary name holds the old bytes and is unlinked; a crash
// in between leaves that temporary (a dot-name) for the state root's sweep.
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>

namespace tsc {

// Puts `temporary` (in `dirfd`; AT_FDCWD for paths) in place of `name`: exchanged when `name` exists, renamed
// when it does not or when the filesystem cannot exchange (EINVAL). 0, or -1 with errno.
inline int replace_file_at(int dirfd, const char* temporary, const char* name) {
  if (renameat2(dirfd, temporary, dirfd, name, RENAME_EXCHANGE) == 0) {
    // The temporary now holds the old bytes: nothing needs them.
    unlinkat(dirfd, temporary, 0);
    return 0;
  }
  if (errno != ENOENT && errno != EINVAL) return -1;
  // ENOENT: `name` does not exist yet (or the temporary is gone, which renameat reports too).
  return renameat(dirfd, temporary, dirfd, name);
}

}  // namespace tsc
