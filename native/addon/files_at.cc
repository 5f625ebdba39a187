#include "addon/files_at.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "addon/errno_error.h"
#include "common/replace_file.h"

namespace tsc {

int open_at(int dirfd, const std::string& name, int flags, mode_t mode) {
  int fd;
  do {
    fd = openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int write_new_file(int dirfd, const std::string& name, const std::string& data, mode_t mode) {
  int fd = open_at(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      unlinkat(dirfd, name.c_str(), 0);
      errno = saved;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) < 0 && errno != EINTR) {
    // A delayed write error (NFS, a full disk seen late): the file is not what was asked.
    int saved = errno;
    unlinkat(dirfd, name.c_str(), 0);
    errno = saved;
    return -1;
  }
  return 0;
}

int read_whole_file_at(int dirfd, const std::string& name, std::string* text, const char** failed_step) {
  int fd = open_at(dirfd, name, O_RDONLY);
  if (fd < 0) {
    if (failed_step) *failed_step = "open";
    return errno;
  }
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      if (failed_step) *failed_step = "read";
      return saved;
    }
    if (n == 0) break;
    text->append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return 0;
}

namespace {

Napi::Value OpenAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  int flags = info[2].As<Napi::Number>().Int32Value();
  mode_t mode = static_cast<mode_t>(info[3].As<Napi::Number>().Uint32Value());
  int fd = open_at(dirfd, name, flags, mode);
  if (fd < 0) throw errno_error(env, errno, "open " + name);
  return Napi::Number::New(env, fd);
}

Napi::Value WriteFileAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  std::string data = info[2].As<Napi::String>().Utf8Value();
  mode_t mode = static_cast<mode_t>(info[3].As<Napi::Number>().Uint32Value());
  bool replace = info.Length() > 4 && info[4].IsString();
  std::string written = replace ? info[4].As<Napi::String>().Utf8Value() : name;
  if (write_new_file(dirfd, written, data, mode) != 0) throw errno_error(env, errno, "write " + written);
  if (replace && replace_file_at(dirfd, written.c_str(), name.c_str()) != 0) {
    int saved = errno;
    unlinkat(dirfd, written.c_str(), 0);
    throw errno_error(env, saved, "rename");
  }
  return env.Undefined();
}

// The whole of a small file `name` of `dirfd` as UTF-8 text; undefined when it does not exist.
Napi::Value ReadFileAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = info[0].As<Napi::Number>().Int32Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  std::string text;
  const char* step = nullptr;
  int err = read_whole_file_at(dirfd, name, &text, &step);
  if (err == ENOENT && std::string(step) == "open") return env.Undefined();
  if (err != 0) throw errno_error(env, err, std::string(step) + " " + name);
  return Napi::String::New(env, text);
}

}  // namespace

void InitFilesAt(Napi::Env env, Napi::Object exports) {
  exports.Set("openAt", Napi::Function::New(env, OpenAt, "openAt"));
  exports.Set("readFileAt", Napi::Function::New(env, ReadFileAt, "readFileAt"));
  exports.Set("writeFileAt", Napi::Function::New(env, WriteFileAt, "writeFileAt"));
}

}  // namespace tsc
