#include "addon/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "addon/errno_promise_worker.h"

namespace tsc {

namespace {

// Removes the entry `name` of the directory `parent_fd`; 0 or an errno. Iterative: a deep tree
// costs one open directory per level, not a stack frame per level.
int remove_entry(int parent_fd, const std::string& name) {
  struct Level {
    int parent;         // fd of the directory holding this one (the caller's for the first)
    std::string name;   // this directory's name in it
    DIR* dir;           // this directory, being read
  };
  struct stat st;
  if (fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : errno;
  if (!S_ISDIR(st.st_mode)) return unlinkat(parent_fd, name.c_str(), 0) < 0 && errno != ENOENT ? errno : 0;
  std::vector<Level> stack;
  auto open_level = [&](int parent, const std::string& entry) -> int {
    int fd = openat(parent, entry.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    DIR* dir = fdopendir(fd);
    if (!dir) {
      int saved = errno;
      close(fd);
      return saved;
    }
    stack.push_back(Level{parent, entry, dir});
    return 0;
  };
  int err = open_level(parent_fd, name);
  while (err == 0 && !stack.empty()) {
    Level& level = stack.back();
    int fd = dirfd(level.dir);
    errno = 0;
    struct dirent* entry = readdir(level.dir);
    if (!entry) {
      if (errno != 0) {
        err = errno;
        break;
      }
      // Emptied: closed, then removed from its parent.
      int parent = level.parent;
      std::string done = level.name;
      closedir(level.dir);
      stack.pop_back();
      if (unlinkat(parent, done.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) err = errno;
      continue;
    }
    std::string child = entry->d_name;
    if (child == "." || child == "..") continue;
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      if (fstatat(fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) continue;
        err = errno;
        break;
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      err = open_level(fd, child);
      if (err == ENOENT) err = 0;
    } else if (unlinkat(fd, child.c_str(), 0) < 0 && errno != ENOENT) {
      err = errno;
    }
  }
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) closedir(it->dir);
  return err;
}

class RemoveTreeWorker : public ErrnoPromiseWorker {
 public:
  RemoveTreeWorker(Napi::Env env, const std::string& path) : ErrnoPromiseWorker(env, "removeTree", "remove " + path), path_(path) {}

 protected:
  int Run() override {
    std::string parent = path_.substr(0, path_.find_last_of('/'));
    std::string name = path_.substr(path_.find_last_of('/') + 1);
    int parent_fd = open(parent.empty() ? "/" : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent_fd < 0) return errno == ENOENT ? 0 : errno;
    int err = remove_entry(parent_fd, name);
    close(parent_fd);
    return err;
  }

 private:
  std::string path_;
};

Napi::Value RemoveTree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string last = path.substr(path.find_last_of('/') + 1);
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos || last.empty() || last == "." || last == "..") {
    throw Napi::TypeError::New(env, "removeTree: expected an absolute path other than /, ending in a name");
  }
  return (new RemoveTreeWorker(env, path))->Start();
}

}  // namespace

void InitRemoveTree(Napi::Env env, Napi::Object exports) {
  exports.Set("removeTree", Napi::Function::New(env, RemoveTree, "removeTree"));
}

}  // namespace tsc
