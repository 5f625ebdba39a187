// Thin wrappers for the Linux system calls that glibc 2.36 does not wrap.
// Numbers come from <sys/syscall.h> and flags from the kernel's uapi headers,
// so the same source builds on x86_64 and arm64.
#pragma once

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace tsc {

inline long sys_clone3(struct clone_args* args) {
  return syscall(SYS_clone3, args, sizeof(*args));
}

inline int sys_pidfd_open(pid_t pid, unsigned int flags) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, flags));
}

inline int sys_pidfd_send_signal(int pidfd, int sig, unsigned int flags) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, flags));
}

inline int sys_openat2(int dirfd, const char* path, struct open_how* how) {
  return static_cast<int>(syscall(SYS_openat2, dirfd, path, how, sizeof(*how)));
}

inline int sys_open_tree(int dirfd, const char* path, unsigned int flags) {
  return static_cast<int>(syscall(SYS_open_tree, dirfd, path, flags));
}

inline int sys_move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
                          unsigned int flags) {
  return static_cast<int>(syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
}

inline int sys_fsopen(const char* fstype, unsigned int flags) {
  return static_cast<int>(syscall(SYS_fsopen, fstype, flags));
}

inline int sys_fsconfig(int fsfd, unsigned int cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(syscall(SYS_fsconfig, fsfd, cmd, key, value, aux));
}

inline int sys_fsmount(int fsfd, unsigned int flags, unsigned int attr_flags) {
  return static_cast<int>(syscall(SYS_fsmount, fsfd, flags, attr_flags));
}

inline int sys_mount_setattr(int dirfd, const char* path, unsigned int flags, struct mount_attr* attr) {
  return static_cast<int>(syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof(*attr)));
}

inline int sys_pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(syscall(SYS_pivot_root, new_root, put_old));
}

inline int sys_close_range(unsigned int first, unsigned int last, unsigned int flags) {
  return static_cast<int>(syscall(SYS_close_range, first, last, flags));
}

}  // namespace tsc
