#include "addon/state_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "addon/errno_error.h"
#include "addon/files_at.h"

namespace tsc {

namespace {

// An errno error of a step, with the name in the directory it failed on.
Napi::Error step_error(Napi::Env env, int err, const std::string& step, const std::string& file) {
  Napi::Error error = errno_error(env, err, step);
  if (!file.empty()) error.Set("file", Napi::String::New(env, file));
  return error;
}

Napi::Value MakeStateDirectory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsString() || !info[3].IsString() ||
      !info[4].IsArray() || !info[5].IsNumber()) {
    throw Napi::TypeError::New(env, "makeStateDirectory(rootFd, making, unpublishedLock, lock, files, mode)");
  }
  int root_fd = info[0].As<Napi::Number>().Int32Value();
  std::string making = info[1].As<Napi::String>().Utf8Value();
  std::string unpublished_lock = info[2].As<Napi::String>().Utf8Value();
  std::string lock = info[3].As<Napi::String>().Utf8Value();
  std::vector<std::pair<std::string, std::string>> files;
  Napi::Array given = info[4].As<Napi::Array>();
  for (uint32_t i = 0; i < given.Length(); i++) {
    Napi::Array pair = given.Get(i).As<Napi::Array>();
    files.emplace_back(pair.Get(0u).As<Napi::String>().Utf8Value(), pair.Get(1u).As<Napi::String>().Utf8Value());
  }
  mode_t mode = static_cast<mode_t>(info[5].As<Napi::Number>().Uint32Value());

  if (mkdirat(root_fd, making.c_str(), mode) != 0) throw step_error(env, errno, "make the state directory", "");
  int dir_fd = open_at(root_fd, making, O_RDONLY | O_DIRECTORY);
  if (dir_fd < 0) throw step_error(env, errno, "open the state directory", "");
  struct stat st;
  if (fstat(dir_fd, &st) != 0) {
    int saved = errno;
    close(dir_fd);
    throw step_error(env, saved, "open the state directory", "");
  }
  // Made under another name, locked, then renamed: a lock file anyone can see is held.
  int lock_fd = open_at(dir_fd, unpublished_lock, O_WRONLY | O_CREAT | O_EXCL, 0600);
  int err = lock_fd < 0 ? errno : 0;
  if (err == 0 && flock(lock_fd, LOCK_EX | LOCK_NB) != 0) err = errno;
  if (err == 0 && renameat(dir_fd, unpublished_lock.c_str(), dir_fd, lock.c_str()) != 0) err = errno;
  if (err != 0) {
    if (lock_fd >= 0) close(lock_fd);
    close(dir_fd);
    throw step_error(env, err, "make the lock", lock);
  }
  // Plain writes: nobody sees the directory before the caller renames it into place.
  for (const auto& [name, data] : files) {
    if (write_new_file(dir_fd, name, data, 0600) != 0) {
      int saved = errno;
      close(lock_fd);
      close(dir_fd);
      throw step_error(env, saved, "write " + name, name);
    }
  }
  close(dir_fd);
  Napi::Object made = Napi::Object::New(env);
  made.Set("lockFd", Napi::Number::New(env, lock_fd));
  made.Set("dev", Napi::Number::New(env, static_cast<double>(st.st_dev)));
  made.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  return made;
}

Napi::Value RenameAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsString()) {
    throw Napi::TypeError::New(env, "renameAt(dirfd, from, to)");
  }
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string from = info[1].As<Napi::String>().Utf8Value();
  std::string to = info[2].As<Napi::String>().Utf8Value();
  if (renameat(dirfd, from.c_str(), dirfd, to.c_str()) != 0) throw errno_error(env, errno, "rename " + from);
  return env.Undefined();
}

}  // namespace

void InitStateDirectory(Napi::Env env, Napi::Object exports) {
  exports.Set("makeStateDirectory", Napi::Function::New(env, MakeStateDirectory, "makeStateDirectory"));
  exports.Set("renameAt", Napi::Function::New(env, RenameAt, "renameAt"));
}

}  // namespace tsc
