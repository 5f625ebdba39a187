#include "addon/layer_diff.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "addon/id_map_value.h"
#include "addon/path_in_container.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"

namespace tsc {

namespace {

// Every path is resolved inside the walked directory and never through a symlink: a
// container that swaps a directory for a link while it is read cannot make the host read
// outside its layer.
constexpr uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
constexpr size_t kBlock = 512;

struct DiffError {
  std::string entry;
  int err;
  std::string what;
};

struct DiffStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
};

std::string octal(uint64_t value, size_t width) {
  char buf[32];
  snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(value));
  return std::string(buf, width - 1);
}

// A pax time as Go's archive/tar (and so containerd, buildkit, podman) writes it: seconds,
// then the nanoseconds without trailing zeros ("1700000000.5"); before 1970, the sign goes
// in front of the whole value ("-1.5" is 1.5 s before the epoch: st_mtim -2 s + 0.5 s).
std::string pax_time(int64_t sec, long nsec) {
  if (nsec == 0) return std::to_string(sec);
  const char* sign = "";
  if (sec < 0) {
    sign = "-";
    sec = -(sec + 1);
    nsec = 1000000000L - nsec;
  }
  char text[48];
  snprintf(text, sizeof text, "%s%lld.%09ld", sign, static_cast<long long>(sec), nsec);
  std::string out(text);
  out.erase(out.find_last_not_of('0') + 1);
  return out;
}

std::string pax_record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  size_t length = body.size() + 1;
  // The length counts its own digits.
  while (std::to_string(length).size() + body.size() != length) length = std::to_string(length).size() + body.size();
  return std::to_string(length) + body;
}

struct Entry {
  std::string name;
  std::string link;
  char type = '0';
  uint32_t mode = 0;
  uint64_t uid = 0, gid = 0, size = 0;
  int64_t mtime = 0;
  long mtime_nsec = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

bool is_overlay_xattr(const std::string& key) { return key.rfind("trusted.overlay.", 0) == 0 || key.rfind("user.overlay.", 0) == 0; }

// Where an entry's extended attributes are read: an fd opened on it or, for what is never
// opened (a symlink, a device node), its name in its directory, reached through the
// directory fd's /proc/self/fd path with the l*xattr calls, which act on the name itself.
struct XattrSource {
  int fd = -1;
  std::string path;

  static XattrSource of_fd(int fd) { return XattrSource{fd, ""}; }
  static XattrSource of_name(int dir_fd, const std::string& name) {
    return XattrSource{-1, "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name};
  }
  ssize_t list(char* buf, size_t size) const { return fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(path.c_str(), buf, size); }
  ssize_t get(const char* key, char* buf, size_t size) const {
    return fd >= 0 ? fgetxattr(fd, key, buf, size) : lgetxattr(path.c_str(), key, buf, size);
  }
};

// Every extended attribute of the entry (`path` names it in errors), in the order listed.
std::vector<std::pair<std::string, std::string>> list_xattrs(const std::string& path, const XattrSource& source) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t n = source.list(nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    throw DiffError{path, errno, "listxattr"};
  }
  std::string list(static_cast<size_t>(n), '\0');
  n = source.list(list.data(), list.size());
  if (n < 0) throw DiffError{path, errno, "listxattr"};
  list.resize(static_cast<size_t>(n));
  for (size_t at = 0; at < list.size();) {
    std::string key(list.c_str() + at);
    at += key.size() + 1;
    if (key.empty()) continue;
    ssize_t len = source.get(key.c_str(), nullptr, 0);
    if (len < 0) {
      if (errno == ENODATA) continue;
      throw DiffError{path, errno, "getxattr " + key};
    }
    std::string value(static_cast<size_t>(len), '\0');
    len = source.get(key.c_str(), value.data(), value.size());
    if (len < 0) throw DiffError{path, errno, "getxattr " + key};
    value.resize(static_cast<size_t>(len));
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

// What the layer's root is below the diffed directory (the top lower layer's root), to
// tell whether the container changed its / itself.
struct BaseRoot {
  uint32_t mode = 0;
  uint64_t uid = 0, gid = 0;
  int64_t mtime = 0;
  long mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

BaseRoot read_base_root(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw DiffError{"", errno, "open " + dir};
  UniqueFd base(fd);
  struct stat st;
  if (fstat(base.get(), &st) < 0) throw DiffError{"", errno, "stat " + dir};
  BaseRoot root{st.st_mode & 07777, st.st_uid, st.st_gid, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, {}};
  for (auto& [key, value] : list_xattrs(dir, XattrSource::of_fd(base.get()))) {
    if (!is_overlay_xattr(key)) root.xattrs.emplace_back(std::move(key), std::move(value));
  }
  std::sort(root.xattrs.begin(), root.xattrs.end());
  return root;
}

class Walker {
 public:
  Walker(int root, int out, bool whiteouts, IdMap uids, IdMap gids)
      : root_(root), out_(out), whiteouts_(whiteouts), uids_(std::move(uids)), gids_(std::move(gids)) {}

  DiffStats stats;

  void walk(const std::string& rel, int dir_fd) {
    std::vector<std::string> names;
    {
      int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
      if (dup_fd < 0) throw DiffError{rel, errno, "dup"};
      DIR* d = fdopendir(dup_fd);
      if (!d) {
        int err = errno;
        close(dup_fd);
        throw DiffError{rel, err, "opendir"};
      }
      errno = 0;
      while (struct dirent* de = readdir(d)) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) names.emplace_back(de->d_name);
      }
      int err = errno;
      closedir(d);
      if (err) throw DiffError{rel, err, "readdir"};
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) entry(rel, dir_fd, name);
  }

 private:
  int root_;
  int out_;
  bool whiteouts_;
  IdMap uids_, gids_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;

  UniqueFd open_in_root(const std::string& path, int flags) {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
    how.resolve = kResolve;
    int fd;
    do fd = sys_openat2(root_, path.c_str(), &how);
    while (fd < 0 && errno == EAGAIN);
    if (fd < 0) throw DiffError{path, errno, "open"};
    return UniqueFd(fd);
  }

  // The entry's extended attributes but overlay's own; `opaque` tells whether overlay marked it so.
  void read_xattrs(const std::string& path, const XattrSource& source, Entry& e, bool& opaque) {
    for (auto& [key, value] : list_xattrs(path, source)) {
      if (!is_overlay_xattr(key)) {
        e.xattrs.emplace_back(std::move(key), std::move(value));
        continue;
      }
      if (!whiteouts_) continue;
      std::string what = key.substr(key.find("overlay.") + 8);
      if (what == "opaque" && value == "y") opaque = true;
      // A renamed directory or a metadata-only copy keeps its data in a lower layer: the
      // upper directory alone is not the diff, so no layer is made rather than a wrong one.
      if (what == "redirect" || what == "metacopy") throw DiffError{path, ENOTSUP, "overlay " + what + " (the layer needs its lower layers)"};
    }
    std::sort(e.xattrs.begin(), e.xattrs.end());
  }

  void write_all(const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = write(out_, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw DiffError{"", errno, "write"};
      }
      data += n;
      size -= static_cast<size_t>(n);
      stats.bytes += static_cast<uint64_t>(n);
    }
  }

  void pad(uint64_t size) {
    static const char zeros[kBlock] = {};
    size_t rest = static_cast<size_t>(size % kBlock);
    if (rest) write_all(zeros, kBlock - rest);
  }

  static void put(char* block, size_t at, size_t width, const std::string& s) { memcpy(block + at, s.data(), std::min(width, s.size())); }

  static void checksum(char* block) {
    memset(block + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < kBlock; i++) sum += static_cast<unsigned char>(block[i]);
    put(block, 148, 8, octal(sum, 7) + std::string(1, '\0'));
  }

  void raw_header(const std::string& name, const std::string& link, char type, uint32_t mode, uint64_t uid, uint64_t gid,
                  uint64_t size, int64_t mtime, uint32_t major, uint32_t minor) {
    char block[kBlock] = {};
    put(block, 0, 100, name);
    put(block, 100, 8, octal(mode & 07777, 8));
    put(block, 108, 8, octal(uid <= 07777777 ? uid : 0, 8));
    put(block, 116, 8, octal(gid <= 07777777 ? gid : 0, 8));
    put(block, 124, 12, octal(size <= 077777777777ULL ? size : 0, 12));
    put(block, 136, 12, octal(mtime > 0 && static_cast<uint64_t>(mtime) <= 077777777777ULL ? static_cast<uint64_t>(mtime) : 0, 12));
    block[156] = type;
    put(block, 157, 100, link);
    put(block, 257, 8, std::string("ustar\0" "00", 8));
    put(block, 329, 8, octal(major, 8));
    put(block, 337, 8, octal(minor, 8));
    checksum(block);
    write_all(block, kBlock);
  }

  void header(const Entry& e) {
    std::string pax;
    if (e.name.size() > 100) pax += pax_record("path", e.name);
    if (e.link.size() > 100) pax += pax_record("linkpath", e.link);
    if (e.uid > 07777777) pax += pax_record("uid", std::to_string(e.uid));
    if (e.gid > 07777777) pax += pax_record("gid", std::to_string(e.gid));
    if (e.size > 077777777777ULL) pax += pax_record("size", std::to_string(e.size));
    // Sub-second times, and times the 11 octal digits of ustar cannot hold.
    if (e.mtime_nsec != 0 || e.mtime < 0 || static_cast<uint64_t>(e.mtime) > 077777777777ULL) {
      pax += pax_record("mtime", pax_time(e.mtime, e.mtime_nsec));
    }
    for (const auto& [key, value] : e.xattrs) pax += pax_record("SCHILY.xattr." + key, value);
    if (!pax.empty()) {
      raw_header("././@PaxHeader", "", 'x', 0644, 0, 0, pax.size(), 0, 0, 0);
      write_all(pax.data(), pax.size());
      pad(pax.size());
    }
    raw_header(e.name.substr(0, 100), e.link.substr(0, 100), e.type, e.mode, e.uid, e.gid, e.size, e.mtime, e.dev_major, e.dev_minor);
    stats.entries++;
  }

  void copy_data(const std::string& path, int fd, uint64_t size) {
    std::vector<char> buf(1 << 16);
    uint64_t left = size;
    while (left > 0) {
      ssize_t n = read(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw DiffError{path, errno, "read"};
      }
      if (n == 0) throw DiffError{path, EIO, "the file shrank while it was read"};
      write_all(buf.data(), static_cast<size_t>(n));
      left -= static_cast<uint64_t>(n);
    }
    pad(size);
  }

 public:
  // One entry of the directory dir_fd (the walked root itself, or one under it) and, for a
  // directory, everything below it; the entry is named rel/name in the tar.
  void entry(const std::string& rel, int dir_fd, const std::string& name) {
    std::string path = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw DiffError{path, errno, "stat"};
    Entry e;
    e.name = path;
    e.mode = st.st_mode & 07777;
    e.uid = to_container_id(uids_, st.st_uid);
    e.gid = to_container_id(gids_, st.st_gid);
    e.mtime = st.st_mtim.tv_sec;
    e.mtime_nsec = st.st_mtim.tv_nsec;
    if (whiteouts_ && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      // An overlay whiteout: the name was deleted from the layers below.
      e.name = rel.empty() ? ".wh." + name : rel + "/.wh." + name;
      e.mode = 0;
      header(e);
      return;
    }
    if (S_ISSOCK(st.st_mode)) return;  // A socket has no life outside its process; image tools skip them.
    bool opaque = false;
    if (S_ISDIR(st.st_mode)) {
      UniqueFd fd = open_in_root(path, O_RDONLY | O_DIRECTORY);
      read_xattrs(path, XattrSource::of_fd(fd.get()), e, opaque);
      e.type = '5';
      e.name += "/";
      header(e);
      if (opaque) {
        Entry marker;
        marker.name = path + "/.wh..wh..opq";
        marker.mtime = e.mtime;
        marker.mtime_nsec = e.mtime_nsec;
        header(marker);
      }
      walk(path, fd.get());
      return;
    }
    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto found = links_.find(key);
      if (found != links_.end()) {
        e.type = '1';
        e.link = found->second;
        header(e);
        return;
      }
      links_.emplace(key, path);
    }
    if (S_ISREG(st.st_mode)) {
      UniqueFd fd = open_in_root(path, O_RDONLY | O_NONBLOCK);
      struct stat now;
      if (fstat(fd.get(), &now) < 0 || now.st_ino != st.st_ino) throw DiffError{path, EIO, "the file changed while it was read"};
      read_xattrs(path, XattrSource::of_fd(fd.get()), e, opaque);
      e.type = '0';
      e.size = static_cast<uint64_t>(st.st_size);
      header(e);
      copy_data(path, fd.get(), e.size);
      return;
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      ssize_t n = readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) throw DiffError{path, errno, "readlink"};
      target.resize(static_cast<size_t>(n));
      read_xattrs(path, XattrSource::of_name(dir_fd, name), e, opaque);
      e.type = '2';
      e.link = target;
      header(e);
      return;
    }
    if (S_ISFIFO(st.st_mode)) {
      UniqueFd fd = open_in_root(path, O_RDONLY | O_NONBLOCK);
      read_xattrs(path, XattrSource::of_fd(fd.get()), e, opaque);
      e.type = '6';
      header(e);
      return;
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      // A device is never opened (that could act on it): its xattrs are read by name.
      read_xattrs(path, XattrSource::of_name(dir_fd, name), e, opaque);
      e.type = S_ISCHR(st.st_mode) ? '3' : '4';
      e.dev_major = major(st.st_rdev);
      e.dev_minor = minor(st.st_rdev);
      header(e);
      return;
    }
    throw DiffError{path, ENOTSUP, "an entry type a layer cannot hold"};
  }

 public:
  // The layer's own root, "./": its mode, owner, mtime and xattrs, unless it is the same as
  // `base`, the root below it (then an unpacked layer takes it from there anyway).
  void root_entry(const BaseRoot* base) {
    struct stat st;
    if (fstat(root_, &st) < 0) throw DiffError{".", errno, "stat"};
    Entry e;
    e.name = "./";
    e.type = '5';
    e.mode = st.st_mode & 07777;
    e.uid = to_container_id(uids_, st.st_uid);
    e.gid = to_container_id(gids_, st.st_gid);
    e.mtime = st.st_mtim.tv_sec;
    e.mtime_nsec = st.st_mtim.tv_nsec;
    bool opaque = false;
    read_xattrs(".", XattrSource::of_fd(root_), e, opaque);
    if (base != nullptr && base->mode == e.mode && base->uid == e.uid && base->gid == e.gid && base->mtime == e.mtime &&
        base->mtime_nsec == e.mtime_nsec && base->xattrs == e.xattrs) {
      return;
    }
    header(e);
  }

  void finish() {
    static const char zeros[kBlock * 2] = {};
    write_all(zeros, sizeof zeros);
  }
};

class DiffWorker : public Napi::AsyncWorker {
 public:
  DiffWorker(Napi::Env env, std::string dir, int out, bool whiteouts, IdMap uids, IdMap gids, std::string base_root, std::string in_root)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        dir_(std::move(dir)),
        base_root_(std::move(base_root)),
        in_root_(std::move(in_root)),
        out_(out),
        whiteouts_(whiteouts),
        uids_(std::move(uids)),
        gids_(std::move(gids)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      if (!in_root_.empty()) {
        copy_out();
        return;
      }
      int fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) throw DiffError{"", errno, "open " + dir_};
      UniqueFd root(fd);
      Walker walker(root.get(), out_, whiteouts_, uids_, gids_);
      if (base_root_.empty()) {
        walker.root_entry(nullptr);
      } else {
        BaseRoot base = read_base_root(base_root_);
        walker.root_entry(&base);
      }
      walker.walk("", root.get());
      walker.finish();
      stats_ = walker.stats;
    } catch (const DiffError& e) {
      error_ = e;
      failed_ = true;
    }
  }

  // A path inside a container's root (in_root_), for a copy out: the tar holds it under its
  // own name (its last component), or its contents when the path ends in "/.", or the whole
  // root as "./". The path is resolved inside the root; its last component is not followed.
  void copy_out() {
    UniqueFd root;
    UniqueFd parent;
    std::string name;
    try {
      root.reset(open_container_root(in_root_));
      parent.reset(open_parent_in_container(root.get(), dir_, &name));
    } catch (const ContainerPathError& e) {
      throw DiffError{dir_, e.err, e.what};
    }
    // The directory itself is read (its entries, its xattrs): opened for reading, from its O_PATH fd.
    if (name.empty() || name == ".") {
      int fd = openat(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) throw DiffError{dir_, errno, "open " + dir_};
      parent.reset(fd);
    }
    Walker walker(parent.get(), out_, false, uids_, gids_);
    if (name.empty()) walker.root_entry(nullptr);
    if (name.empty() || name == ".") {
      walker.walk("", parent.get());
    } else {
      walker.entry("", parent.get(), name);
    }
    walker.finish();
    stats_ = walker.stats;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (failed_) {
      std::string text = error_.what + (error_.entry.empty() ? "" : " " + error_.entry) + ": " + strerror(error_.err);
      Napi::Error error = Napi::Error::New(env, text);
      error.Set("entry", Napi::String::New(env, error_.entry));
      error.Set("errno", Napi::Number::New(env, error_.err));
      error.Set("code", Napi::String::New(env, uv_err_name(-error_.err)));
      error.Set("step", Napi::String::New(env, error_.what));
      deferred_.Reject(error.Value());
      return;
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("entries", Napi::Number::New(env, static_cast<double>(stats_.entries)));
    result.Set("bytes", Napi::Number::New(env, static_cast<double>(stats_.bytes)));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string dir_;
  std::string base_root_;
  std::string in_root_;
  int out_;
  bool whiteouts_;
  IdMap uids_, gids_;
  DiffStats stats_;
  DiffError error_;
  bool failed_ = false;
};

Napi::Value LayerDiff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "layerDiff(dir, fd, { whiteouts })");
  }
  bool whiteouts = false;
  IdMap uids, gids;
  std::string base_root, in_root;
  if (info.Length() > 2 && info[2].IsObject()) {
    auto options = info[2].As<Napi::Object>();
    Napi::Value w = options.Get("whiteouts");
    whiteouts = w.IsBoolean() && w.As<Napi::Boolean>().Value();
    uids = id_map_of(options.Get("uidMap"));
    gids = id_map_of(options.Get("gidMap"));
    Napi::Value base = options.Get("baseRoot");
    if (base.IsString()) base_root = base.As<Napi::String>().Utf8Value();
    Napi::Value root = options.Get("root");
    if (root.IsString()) in_root = root.As<Napi::String>().Utf8Value();
  }
  auto* worker = new DiffWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Int32Value(), whiteouts,
                                std::move(uids), std::move(gids), std::move(base_root), std::move(in_root));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// inheritRootAttributes(from, to): the directory `to` (a new upper layer's root) takes the
// extended attributes (overlay's own aside) and the times of `from` (the top lower layer's
// root), so that the container's / starts as the image's: overlayfs shows the upper root's
// own, and a diff of the layer then tells a change the container made from its making.
Napi::Value InheritRootAttributes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(env, "inheritRootAttributes(from, to)");
  std::string from_path = info[0].As<Napi::String>().Utf8Value();
  std::string to_path = info[1].As<Napi::String>().Utf8Value();
  auto fail = [&](int err, const std::string& what, const std::string& path) {
    Napi::Error error = Napi::Error::New(env, what + " " + path + ": " + strerror(err));
    error.Set("code", Napi::String::New(env, uv_err_name(-err)));
    error.Set("errno", Napi::Number::New(env, -err));  // negative, as Node's fs errors have it
    error.Set("path", Napi::String::New(env, path));
    error.Set("step", Napi::String::New(env, what));
    return error;
  };
  UniqueFd from(open(from_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!from) throw fail(errno, "open", from_path);
  UniqueFd to(open(to_path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!to) throw fail(errno, "open", to_path);
  std::vector<std::pair<std::string, std::string>> xattrs;
  try {
    xattrs = list_xattrs(from_path, XattrSource::of_fd(from.get()));
  } catch (const DiffError& e) {
    throw fail(e.err, e.what, from_path);
  }
  for (const auto& [key, value] : xattrs) {
    if (is_overlay_xattr(key)) continue;
    if (fsetxattr(to.get(), key.c_str(), value.data(), value.size(), 0) < 0) throw fail(errno, "setxattr " + key, to_path);
  }
  struct stat st;
  if (fstat(from.get(), &st) < 0) throw fail(errno, "stat", from_path);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (futimens(to.get(), times) < 0) throw fail(errno, "utimens", to_path);
  return env.Undefined();
}

}  // namespace

void InitLayerDiff(Napi::Env env, Napi::Object exports) {
  exports.Set("layerDiff", Napi::Function::New(env, LayerDiff));
  exports.Set("inheritRootAttributes", Napi::Function::New(env, InheritRootAttributes));
}

}  // namespace tsc
