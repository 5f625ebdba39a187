// Small files of a state directory written through the directory's fd, in one call each.
//
// Node has no openat: a name below an open directory is reached as /proc/self/fd/<fd>/<name>,
// a lookup through procfs on every call, and a write of a new file is four calls from
// JavaScript (open, write, close and, to replace one, an exchange). These do it with openat(2)
// relative to the fd, never following a link at the last component.
#pragma once

#include <napi.h>

#include <sys/types.h>

#include <string>

namespace tsc {

// openAt(dirfd, name, flags, mode) → fd: openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC,
//   mode). Throws an errno error (code "ENOENT", "ELOOP"...).
// readFileAt(dirfd, name) → string | undefined: the whole file `name` (opened O_NOFOLLOW) as
//   UTF-8 text, in one call (open, reads, close); undefined when it does not exist. Throws an
//   errno error (ELOOP for a link...).
// writeFileAt(dirfd, name, data: string, mode, temporary?: string): writes `data` into the new
//   file `name` (O_EXCL). With `temporary`, writes that new file instead and puts it in place
//   of `name` whole (common/replace_file.h), so that a reader sees the old bytes or the new; a
//   failure removes the temporary. Throws an errno error.
void InitFilesAt(Napi::Env env, Napi::Object exports);

// The whole of the file `name` of `dirfd` (AT_FDCWD for a path; never through a link at its
// last component) appended to *text: 0, or the errno of the open or of a read (*failed_step
// says which, when given).
int read_whole_file_at(int dirfd, const std::string& name, std::string* text, const char** failed_step = nullptr);

// openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode), again after EINTR: the fd, or -1
// with errno.
int open_at(int dirfd, const std::string& name, int flags, mode_t mode = 0);

// Writes all of `data` into a new file `name` of `dirfd` (O_EXCL, never through a link): 0, or
// -1 with errno, the file then removed.
int write_new_file(int dirfd, const std::string& name, const std::string& data, mode_t mode);

}  // namespace tsc
