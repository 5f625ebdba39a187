#include "addon/layer_applier.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/syscalls.h"

namespace tsc {

namespace {

// Inside the layer, never through a symlink (a link is data of the layer, not
// a way into it), never out of it.
constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;

[[noreturn]] void fail(const std::string& entry, int err, const std::string& what) {
  throw LayerEntryError{entry, err, what};
}

int open_under(int root, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = kResolve;
  int fd;
  do {
    fd = sys_openat2(root, path.c_str(), &how);
  } while (fd < 0 && errno == EAGAIN);
  return fd;
}

void write_all(int fd, const char* data, size_t size, const std::string& entry) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(entry, errno, "write");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

struct timespec* entry_times(const LayerEntry& e, struct timespec times[2]) {
  times[0].tv_sec = e.mtime_sec;
  times[0].tv_nsec = e.mtime_nsec;
  times[1] = times[0];
  return times;
}

// The path of a name in a directory fd, for the calls that have no *at form
// (lsetxattr); the directory was opened without following any symlink.
std::string proc_path(int dir_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

// A new name for the file behind an O_PATH fd. AT_EMPTY_PATH needs
// CAP_DAC_READ_SEARCH; without it (ENOENT), the fd's /proc magic link serves.
int link_fd(int fd, int parent, const std::string& name) {
  if (linkat(fd, "", parent, name.c_str(), AT_EMPTY_PATH) == 0) return 0;
  if (errno != ENOENT) return -1;
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  return linkat(AT_FDCWD, self.c_str(), parent, name.c_str(), AT_SYMLINK_FOLLOW);
}

}  // namespace

LayerApplier::LayerApplier(int root_fd, LayerApplierOptions options) : root_fd_(root_fd), options_(std::move(options)) {}

LayerApplier::~LayerApplier() {
  for (int fd : options_.lower_fds) close(fd);
  if (file_fd_ >= 0) close(file_fd_);
  forget_cached_parent();
  close(root_fd_);
}

void LayerApplier::forget_cached_parent() {
  if (cached_parent_fd_ >= 0) close(cached_parent_fd_);
  cached_parent_fd_ = -1;
  cached_parent_path_.clear();
}

// Opens the directory at `path` (O_PATH unless flags say otherwise), making
// missing components (0755, as tar does for parents an archive leaves out).
int LayerApplier::open_directory_path(const std::string& path, bool create, int flags) {
  if (path.empty()) return fcntl(root_fd_, F_DUPFD_CLOEXEC, 0);
  int fd = open_under(root_fd_, path, flags | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT || !create) {
    if (fd < 0) {
      int err = errno;
      if (err == ELOOP) fail(path, err, "a path component is a symbolic link");
      if (err == ENOTDIR) fail(path, err, "a path component is not a directory");
      if (err == EXDEV) fail(path, err, "the path leaves the layer");
      fail(path, err, "open");
    }
    return fd;
  }
  // Walk down, making what is missing.
  int current = fcntl(root_fd_, F_DUPFD_CLOEXEC, 0);
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string component = path.substr(start, slash - start);
    start = slash + 1;
    bool made = mkdirat(current, component.c_str(), 0755) == 0;
    if (!made && errno != EEXIST) {
      int err = errno;
      close(current);
      fail(path, err, "mkdir");
    }
    int next = open_under(current, component, (start > path.size() ? flags : O_PATH) | O_DIRECTORY);
    int err = errno;
    close(current);
    if (next < 0) {
      if (err == ELOOP) fail(path, err, "a path component is a symbolic link");
      if (err == ENOTDIR) fail(path, err, "a path component is not a directory");
      fail(path, err, "open");
    }
    current = next;
    // The mode past the umask, on the directory opened (not by name: see chmod_at).
    if (made && chmod(("/proc/self/fd/" + std::to_string(current)).c_str(), 0755) < 0) {
      err = errno;
      close(current);
      fail(path, err, "chmod");
    }
    if (made) inherit_directory(current, path.substr(0, slash));
  }
  return current;
}

// A directory made because an entry needs it: the copy in the upper-most
// layer below that has one gives owner, mode, xattrs and mtime.
void LayerApplier::inherit_root() { inherit_directory(root_fd_, ""); }

void LayerApplier::inherit_directory(int dir_fd, const std::string& path) {
  if (options_.lowers_at_finish) {
    left_out_[path] = LeftOutDirectory{};
    return;
  }
  inherit_now(dir_fd, path, nullptr);
}

// A directory that a path under `path` (or `path` itself) was: it is gone, and what it was to
// inherit with it.
void LayerApplier::forget_left_out(const std::string& path) {
  if (left_out_.empty()) return;
  std::string under = path + "/";
  for (auto it = left_out_.lower_bound(path); it != left_out_.end() && (it->first == path || it->first.compare(0, under.size(), under) == 0);) {
    it = left_out_.erase(it);
  }
}

// The attributes of the upper-most copy below: xattrs (but the overlay's own), owner, and the
// mode and mtime that finish sets. `named`: an entry named the directory since; only the
// xattrs it did not set are taken.
void LayerApplier::inherit_now(int dir_fd, const std::string& path, const LeftOutDirectory* named) {
  for (int lower : options_.lower_fds) {
    int fd = path.empty() ? fcntl(lower, F_DUPFD_CLOEXEC, 0) : open_under(lower, path, O_PATH | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return;  // a symlink or a file on the way: nothing to take the attributes from
    }
    struct stat st;
    bool is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir) {
      std::string source = "/proc/self/fd/" + std::to_string(fd);
      char names[4096];
      ssize_t n = listxattr(source.c_str(), names, sizeof names);
      for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(strlen(names + i)) + 1) {
        std::string key = names + i;
        if (key.rfind("trusted.overlay.", 0) == 0 || key.rfind("user.overlay.", 0) == 0) continue;
        if (named != nullptr && std::find(named->own_xattrs.begin(), named->own_xattrs.end(), key) != named->own_xattrs.end()) continue;
        char value[4096];
        ssize_t len = getxattr(source.c_str(), key.c_str(), value, sizeof value);
        std::string target = "/proc/self/fd/" + std::to_string(dir_fd);
        if (len >= 0) setxattr(target.c_str(), key.c_str(), value, static_cast<size_t>(len), 0);
      }
      if (named != nullptr) {
        close(fd);
        return;
      }
      if (fchownat(dir_fd, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) < 0 && options_.privileged) {
        int err = errno;
        close(fd);
        fail(path, err, "chown");
      }
      directory_fixes_[path] = DirectoryFix{st.st_mode & 07777, st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec)};
    }
    close(fd);
    return;
  }
}

// The directory that holds `path` (borrowed: valid until the next call), and its last component.
int LayerApplier::parent_of(const std::string& path, std::string* name) {
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
  *name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name->empty() || *name == "." || *name == "..") fail(path, EINVAL, "not a name");
  if (parent.empty()) return root_fd_;
  if (cached_parent_fd_ >= 0 && parent == cached_parent_path_) return cached_parent_fd_;
  forget_cached_parent();
  try {
    cached_parent_fd_ = open_directory_path(parent, true, O_PATH);
  } catch (LayerEntryError& e) {
    e.entry = path;
    throw;
  }
  cached_parent_path_ = parent;
  return cached_parent_fd_;
}

void LayerApplier::remove_tree(int parent, const std::string& name, const std::string& entry) {
  int fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail(entry, errno, "open to replace");
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    close(fd);
    fail(entry, err, "read directory to replace");
  }
  std::vector<std::pair<std::string, bool>> children;
  while (struct dirent* d = readdir(dir)) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    children.emplace_back(d->d_name, d->d_type == DT_DIR);
  }
  for (const auto& [child, is_dir] : children) {
    if (is_dir) {
      remove_tree(dirfd(dir), child, entry);
    } else if (unlinkat(dirfd(dir), child.c_str(), 0) < 0 && errno != ENOENT) {
      int err = errno;
      closedir(dir);
      fail(entry, err, "remove to replace");
    }
  }
  closedir(dir);
  if (unlinkat(parent, name.c_str(), AT_REMOVEDIR) < 0) fail(entry, errno, "remove to replace");
}

// A later entry of an archive replaces an earlier one of the same name.
void LayerApplier::remove_existing(int parent, const std::string& name, const std::string& entry) {
  if (unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR) fail(entry, errno, "remove to replace");
  if (!options_.replace_directories) fail(entry, EISDIR, "a directory is there: it is not replaced by a non-directory");
  // The cached parent may lie inside the directory about to go.
  std::string keep_path = cached_parent_path_;
  bool parent_is_cached = parent == cached_parent_fd_;
  int held = parent_is_cached ? fcntl(parent, F_DUPFD_CLOEXEC, 0) : -1;
  forget_cached_parent();
  int use = parent_is_cached ? held : parent;
  try {
    remove_tree(use, name, entry);
  } catch (...) {
    if (held >= 0) close(held);
    throw;
  }
  forget_left_out(entry);
  if (parent_is_cached) {
    cached_parent_fd_ = held;
    cached_parent_path_ = keep_path;
  }
}

bool LayerApplier::creator_ids(uid_t* uid, gid_t* gid) const {
  uint64_t host_uid, host_gid;
  if (options_.uid_map.empty() || !to_host_id(options_.uid_map, 0, &host_uid) || !to_host_id(options_.gid_map, 0, &host_gid)) return false;
  *uid = static_cast<uid_t>(host_uid);
  *gid = static_cast<gid_t>(host_gid);
  return true;
}

uid_t LayerApplier::host_uid(const LayerEntry& e) {
  uint64_t host;
  if (!to_host_id(options_.uid_map, e.uid, &host)) fail(e.path, EINVAL, "owner " + std::to_string(e.uid) + " is not mapped in the container's user namespace");
  return static_cast<uid_t>(host);
}

gid_t LayerApplier::host_gid(const LayerEntry& e) {
  uint64_t host;
  if (!to_host_id(options_.gid_map, e.gid, &host)) fail(e.path, EINVAL, "group " + std::to_string(e.gid) + " is not mapped in the container's user namespace");
  return static_cast<gid_t>(host);
}

// chmod of a name just made, through an O_PATH fd of it (never fchmodat, which follows a
// symlink: in a live container, the name may have been swapped for one meanwhile).
void LayerApplier::chmod_at(int parent, const std::string& name, uint32_t mode, const std::string& entry) {
  int fd = openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail(entry, errno, "open to chmod");
  struct stat st;
  if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
    int err = S_ISLNK(st.st_mode) ? ELOOP : errno;
    close(fd);
    fail(entry, err, "chmod: replaced by a symbolic link");
  }
  int rc = chmod(("/proc/self/fd/" + std::to_string(fd)).c_str(), mode);
  int err = errno;
  close(fd);
  if (rc < 0) fail(entry, err, "chmod");
}

// fchown to the entry's owner: 0, or the errno (ignored when not privileged). An owner the
// container does not map closes fd and throws.
int LayerApplier::chown_fd(int fd, const LayerEntry& e) {
  uid_t uid = 0;
  gid_t gid = 0;
  try {
    uid = host_uid(e);
    gid = host_gid(e);
  } catch (...) {
    close(fd);
    throw;
  }
  return fchown(fd, uid, gid) < 0 && options_.privileged ? errno : 0;
}

void LayerApplier::set_owner_at(int parent, const std::string& name, const LayerEntry& e) {
  if (fchownat(parent, name.c_str(), host_uid(e), host_gid(e), AT_SYMLINK_NOFOLLOW) < 0 && options_.privileged) {
    fail(e.path, errno, "chown");
  }
}

void LayerApplier::set_xattrs_at(int parent, const std::string& name, const LayerEntry& e) {
  if (e.xattrs.empty()) return;
  std::string path = proc_path(parent, name);
  for (const auto& [key, value] : e.xattrs) {
    if (lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0) < 0) fail(e.path, errno, "setxattr " + key);
  }
}

void LayerApplier::set_times_at(int parent, const std::string& name, const LayerEntry& e) {
  struct timespec times[2];
  if (utimensat(parent, name.c_str(), entry_times(e, times), AT_SYMLINK_NOFOLLOW) < 0) fail(e.path, errno, "utimensat");
}

void LayerApplier::make_directory(const LayerEntry& e) {
  int fd;
  if (e.path.empty()) {
    fd = fcntl(root_fd_, F_DUPFD_CLOEXEC, 0);
  } else {
    std::string name;
    int parent = parent_of(e.path, &name);
    if (mkdirat(parent, name.c_str(), 0700) < 0) {
      if (errno != EEXIST) fail(e.path, errno, "mkdir");
      struct stat st;
      if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail(e.path, errno, "stat");
      if (!S_ISDIR(st.st_mode)) {
        remove_existing(parent, name, e.path);
        if (mkdirat(parent, name.c_str(), 0700) < 0) fail(e.path, errno, "mkdir");
      }
    }
    fd = openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) fail(e.path, errno, "open directory");
  int err = 0;
  std::string what;
  err = chown_fd(fd, e);
  if (err != 0) what = "chown";
  for (const auto& [key, value] : e.xattrs) {
    if (err == 0 && fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) < 0) {
      err = errno;
      what = "setxattr " + key;
    }
  }
  close(fd);
  if (err != 0) fail(e.path, err, what);
  // Mode and mtime last: a directory without write permission must still take its entries.
  directory_fixes_[e.path] = DirectoryFix{e.mode & 07777, e.mtime_sec, e.mtime_nsec};
  auto left_out = left_out_.find(e.path);
  if (left_out != left_out_.end()) {
    left_out->second.named = true;
    for (const auto& [key, value] : e.xattrs) left_out->second.own_xattrs.push_back(key);
  }
}

void LayerApplier::begin_file(const LayerEntry& e) {
  std::string name;
  int parent = parent_of(e.path, &name);
  int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = openat(parent, name.c_str(), flags, 0600);
  if (fd < 0 && errno == EEXIST) {
    remove_existing(parent, name, e.path);
    fd = openat(parent, name.c_str(), flags, 0600);
  }
  if (fd < 0) fail(e.path, errno, "create");
  file_fd_ = fd;
  file_remaining_ = e.size;
  file_entry_ = e;
  file_entry_.data.clear();
  write_data(e);
}

void LayerApplier::write_data(const LayerEntry& e) {
  if (file_fd_ < 0) fail(e.path, EINVAL, "file data without a file");
  for (const auto& [bytes, size] : e.data) {
    if (size > file_remaining_) fail(file_entry_.path, EINVAL, "more data than the file's size");
    write_all(file_fd_, bytes, size, file_entry_.path);
    file_remaining_ -= size;
  }
  if (file_remaining_ == 0) end_file();
}

void LayerApplier::end_file() {
  const LayerEntry& e = file_entry_;
  int fd = file_fd_;
  file_fd_ = -1;
  int err = 0;
  std::string what;
  // chown clears setuid bits and file capabilities: the owner first, then mode and xattrs.
  err = chown_fd(fd, e);
  if (err != 0) what = "chown";
  if (err == 0 && fchmod(fd, e.mode & 07777) < 0) {
    err = errno;
    what = "chmod";
  }
  for (const auto& [key, value] : e.xattrs) {
    if (err == 0 && fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) < 0) {
      err = errno;
      what = "setxattr " + key;
    }
  }
  struct timespec times[2];
  if (err == 0 && futimens(fd, entry_times(e, times)) < 0) {
    err = errno;
    what = "futimens";
  }
  if (close(fd) < 0 && err == 0 && errno != EINTR) {
    err = errno;
    what = "close";
  }
  if (err != 0) fail(e.path, err, what);
}

void LayerApplier::make_symlink(const LayerEntry& e) {
  std::string name;
  int parent = parent_of(e.path, &name);
  if (symlinkat(e.link.c_str(), parent, name.c_str()) < 0) {
    if (errno != EEXIST) fail(e.path, errno, "symlink");
    remove_existing(parent, name, e.path);
    if (symlinkat(e.link.c_str(), parent, name.c_str()) < 0) fail(e.path, errno, "symlink");
  }
  set_owner_at(parent, name, e);
  set_xattrs_at(parent, name, e);
  set_times_at(parent, name, e);
}

void LayerApplier::make_hardlink(const LayerEntry& e) {
  if (e.link == e.path) fail(e.path, EINVAL, "a hard link to itself");
  // The target must be in this layer, reached without a symlink; a final
  // symlink is linked itself (O_PATH | O_NOFOLLOW), as tar does.
  int target = open_under(root_fd_, e.link, O_PATH | O_NOFOLLOW);
  if (target < 0) {
    int err = errno;
    if (err == ENOENT) fail(e.path, err, "hard link target " + e.link + " is not in this layer");
    if (err == ELOOP) fail(e.path, err, "hard link target " + e.link + " goes through a symbolic link");
    fail(e.path, err, "open hard link target " + e.link);
  }
  struct stat st;
  if (fstat(target, &st) < 0 || S_ISDIR(st.st_mode)) {
    close(target);
    fail(e.path, EPERM, "hard link target " + e.link + " is a directory");
  }
  std::string name;
  int parent;
  try {
    parent = parent_of(e.path, &name);
  } catch (...) {
    close(target);
    throw;
  }
  int rc = link_fd(target, parent, name);
  if (rc < 0 && errno == EEXIST) {
    try {
      remove_existing(parent, name, e.path);
    } catch (...) {
      close(target);
      throw;
    }
    rc = link_fd(target, parent, name);
  }
  int err = errno;
  close(target);
  if (rc < 0) fail(e.path, err, "link to " + e.link);
}

void LayerApplier::make_node(const LayerEntry& e) {
  std::string name;
  int parent = parent_of(e.path, &name);
  mode_t type = e.kind == LayerEntryKind::CharDevice ? S_IFCHR : e.kind == LayerEntryKind::BlockDevice ? S_IFBLK : S_IFIFO;
  dev_t dev = type == S_IFIFO ? 0 : makedev(e.dev_major, e.dev_minor);
  if (mknodat(parent, name.c_str(), type | 0600, dev) < 0) {
    if (errno == EPERM && !options_.privileged) return;  // devices where permitted
    if (errno != EEXIST) fail(e.path, errno, "mknod");
    remove_existing(parent, name, e.path);
    if (mknodat(parent, name.c_str(), type | 0600, dev) < 0) fail(e.path, errno, "mknod");
  }
  set_owner_at(parent, name, e);
  chmod_at(parent, name, e.mode & 07777, e.path);
  set_xattrs_at(parent, name, e);
  set_times_at(parent, name, e);
}

void LayerApplier::make_whiteout(const LayerEntry& e) {
  std::string name;
  int parent = parent_of(e.path, &name);
  if (mknodat(parent, name.c_str(), S_IFCHR, makedev(0, 0)) < 0) {
    if (errno != EEXIST) fail(e.path, errno, "mknod whiteout");
    remove_existing(parent, name, e.path);
    if (mknodat(parent, name.c_str(), S_IFCHR, makedev(0, 0)) < 0) fail(e.path, errno, "mknod whiteout");
  }
  set_owner_at(parent, name, e);
}

void LayerApplier::mark_opaque(const LayerEntry& e) {
  int fd = open_directory_path(e.path, true, O_RDONLY);
  int rc = fsetxattr(fd, options_.opaque_xattr.c_str(), "y", 1, 0);
  int err = errno;
  close(fd);
  if (rc < 0) fail(e.path, err, "setxattr " + options_.opaque_xattr);
}

void LayerApplier::apply(const LayerEntry& e) {
  if (e.kind != LayerEntryKind::Data && file_fd_ >= 0) {
    fail(file_entry_.path, EINVAL, "the file's data ended early");
  }
  switch (e.kind) {
    case LayerEntryKind::Directory: return make_directory(e);
    case LayerEntryKind::File: return begin_file(e);
    case LayerEntryKind::Data: return write_data(e);
    case LayerEntryKind::Symlink: return make_symlink(e);
    case LayerEntryKind::Hardlink: return make_hardlink(e);
    case LayerEntryKind::CharDevice:
    case LayerEntryKind::BlockDevice:
    case LayerEntryKind::Fifo: return make_node(e);
    case LayerEntryKind::Whiteout: return make_whiteout(e);
    case LayerEntryKind::Opaque: return mark_opaque(e);
  }
  fail(e.path, EINVAL, "unknown entry kind");
}

void LayerApplier::finish(std::vector<int> lower_fds) {
  for (int fd : lower_fds) options_.lower_fds.push_back(fd);
  if (file_fd_ >= 0) fail(file_entry_.path, EINVAL, "the file's data ended early");
  forget_cached_parent();
  // Parents before children (the map's order), each as it would have been inherited when made.
  for (const auto& [path, left_out] : left_out_) {
    int fd = path.empty() ? fcntl(root_fd_, F_DUPFD_CLOEXEC, 0) : open_under(root_fd_, path, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      fail(path, errno, "open directory");
    }
    try {
      inherit_now(fd, path, left_out.named ? &left_out : nullptr);
    } catch (...) {
      close(fd);
      throw;
    }
    close(fd);
  }
  left_out_.clear();
  for (const auto& [path, fix] : directory_fixes_) {
    int fd = path.empty() ? fcntl(root_fd_, F_DUPFD_CLOEXEC, 0) : open_under(root_fd_, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
      // Replaced or removed by a later entry: nothing of it is left to fix.
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      fail(path, errno, "open directory");
    }
    struct timespec times[2] = {{fix.mtime_sec, static_cast<long>(fix.mtime_nsec)}, {fix.mtime_sec, static_cast<long>(fix.mtime_nsec)}};
    int err = 0;
    std::string what;
    if (fchmod(fd, fix.mode) < 0) {
      err = errno;
      what = "chmod";
    } else if (futimens(fd, times) < 0) {
      err = errno;
      what = "futimens";
    }
    close(fd);
    if (err != 0) fail(path, err, what);
  }
  directory_fixes_.clear();
}

}  // namespace tsc
