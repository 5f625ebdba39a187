#include "addon/seccomp_notify.h"

#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon/fd_watcher.h"

namespace tsc {

namespace {

class SeccompWatcher : public FdWatcher<SeccompWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SeccompWatcher",
                       {InstanceMethod("close", &SeccompWatcher::Close), InstanceMethod("pause", &SeccompWatcher::Pause),
                        InstanceMethod("resume", &SeccompWatcher::Resume)});
  }

  explicit SeccompWatcher(const Napi::CallbackInfo& info) : FdWatcher<SeccompWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "watchSeccomp(fd, onNotification, onClose)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    on_notification_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_close_ = Napi::Persistent(info[2].As<Napi::Function>());
    // pause() stops taking notifications (they wait in the kernel) until
    // resume(): the caller bounds how many one container gets served per
    // event-loop turn.
    StartWatching(info, fd_, UV_READABLE | UV_DISCONNECT, "watch seccomp listener");
  }

 private:
  void OnEvent(int status, int events) override {
    if (status < 0 || (events & UV_DISCONNECT)) {
      // Every process under the filter has exited.
      FinishWith(on_close_, {});
      return;
    }
    struct seccomp_notif request;
    memset(&request, 0, sizeof request);
    if (ioctl(fd_, SECCOMP_IOCTL_NOTIF_RECV, &request) < 0) {
      // ENOENT: the process died before we read it; EINTR: try on the next event.
      if (errno == ENOENT || errno == EINTR || errno == EAGAIN) return;
      FinishWith(on_close_, {});
      return;
    }
    Napi::Env env = Env();
    Napi::Object n = Napi::Object::New(env);
    n.Set("id", Napi::BigInt::New(env, static_cast<uint64_t>(request.id)));
    n.Set("pid", Napi::Number::New(env, request.pid));
    n.Set("nr", Napi::Number::New(env, request.data.nr));
    n.Set("arch", Napi::Number::New(env, request.data.arch));
    n.Set("instructionPointer", Napi::BigInt::New(env, static_cast<uint64_t>(request.data.instruction_pointer)));
    Napi::Array args = Napi::Array::New(env, 6);
    for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(request.data.args[i])));
    n.Set("args", args);
    CallFromEventLoop(on_notification_, {n});
  }

  void DropCallbacks() override {
    on_notification_.Reset();
    on_close_.Reset();
  }

  int fd_ = -1;
  Napi::FunctionReference on_notification_;
  Napi::FunctionReference on_close_;
};

uint64_t to_u64(const Napi::Value& value) {
  bool lossless = true;
  return value.As<Napi::BigInt>().Uint64Value(&lossless);
}

// respondSeccomp(fd, id, error, value, continue) → true, or false when the
// process has gone (its system call was interrupted).
Napi::Value RespondSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct seccomp_notif_resp response;
  memset(&response, 0, sizeof response);
  int fd = info[0].As<Napi::Number>().Int32Value();
  response.id = to_u64(info[1]);
  response.error = info[2].As<Napi::Number>().Int32Value();
  response.val = static_cast<int64_t>(to_u64(info[3]));
  if (info[4].As<Napi::Boolean>().Value()) response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &response) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  Napi::Error error = Napi::Error::New(env, std::string("seccomp respond: ") + strerror(errno));
  throw error;
}

// seccompIdValid(fd, id): the notification's process is still waiting (so a
// read of its memory made before this check was of that process).
Napi::Value SeccompIdValid(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint64_t id = to_u64(info[1]);
  return Napi::Boolean::New(info.Env(), ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0);
}

}  // namespace

void InitSeccompNotify(Napi::Env env, Napi::Object exports) {
  SeccompWatcher::Export(env, exports, "watchSeccomp");
  exports.Set("respondSeccomp", Napi::Function::New(env, RespondSeccomp, "respondSeccomp"));
  exports.Set("seccompIdValid", Napi::Function::New(env, SeccompIdValid, "seccompIdValid"));
}

}  // namespace tsc
