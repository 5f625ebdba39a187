#include "addon/directory_spread.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <string>

#include "addon/errno_error.h"

namespace tsc {

namespace {

Napi::Value SetTopDirectoryFlag(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setTopDirectoryFlag(fd)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  // The ioctls take an int, whatever their names say (as chattr passes it).
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return Napi::Boolean::New(env, false);
  if (flags & FS_TOPDIR_FL) return Napi::Boolean::New(env, true);
  flags |= FS_TOPDIR_FL;
  if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) return Napi::Boolean::New(env, false);
  // A filesystem may accept the call and drop a flag it does not know: only a flag read back counts.
  int now = 0;
  return Napi::Boolean::New(env, ioctl(fd, FS_IOC_GETFLAGS, &now) == 0 && (now & FS_TOPDIR_FL) != 0);
}

Napi::Value MoveIntoPlace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsString()) {
    throw Napi::TypeError::New(env, "moveIntoPlace(from, toDirFd, to)");
  }
  std::string from = info[0].As<Napi::String>().Utf8Value();
  int to_dir = info[1].As<Napi::Number>().Int32Value();
  std::string to = info[2].As<Napi::String>().Utf8Value();
  if (renameat2(AT_FDCWD, from.c_str(), to_dir, to.c_str(), RENAME_NOREPLACE) != 0) throw errno_error(env, errno, "rename " + from);
  return env.Undefined();
}

}  // namespace

void InitDirectorySpread(Napi::Env env, Napi::Object exports) {
  exports.Set("setTopDirectoryFlag", Napi::Function::New(env, SetTopDirectoryFlag, "setTopDirectoryFlag"));
  exports.Set("moveIntoPlace", Napi::Function::New(env, MoveIntoPlace, "moveIntoPlace"));
}

}  // namespace tsc
