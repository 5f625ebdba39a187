#include "addon/seccomp_notify.h"

#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

#include "addon/event_loop_callback.h"

namespace tsc {

namespace {

class SeccompWatcher : public Napi::ObjectWrap<SeccompWatcher> {
 public:
  static Napi::FunctionReference constructor;

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SeccompWatcher",
                       {InstanceMethod("close", &SeccompWatcher::Close), InstanceMethod("pause", &SeccompWatcher::Pause),
                        InstanceMethod("resume", &SeccompWatcher::Resume)});
  }

  explicit SeccompWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SeccompWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "watchSeccomp(fd, onNotification, onClose)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    on_notification_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_close_ = Napi::Persistent(info[2].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, &SeccompWatcher::OnEvent);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      Napi::Error::New(env, std::string("watch seccomp listener: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
  }

  ~SeccompWatcher() override { Stop(); }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<SeccompWatcher*>(handle->data);
    Napi::Env env = self->on_notification_.Env();
    Napi::HandleScope scope(env);
    if (status < 0 || (events & UV_DISCONNECT)) {
      // Every process under the filter has exited.
      self->Finish();
      return;
    }
    struct seccomp_notif request;
    memset(&request, 0, sizeof request);
    if (ioctl(self->fd_, SECCOMP_IOCTL_NOTIF_RECV, &request) < 0) {
      // ENOENT: the process died before we read it; EINTR: try on the next event.
      if (errno == ENOENT || errno == EINTR || errno == EAGAIN) return;
      self->Finish();
      return;
    }
    Napi::Object n = Napi::Object::New(env);
    n.Set("id", Napi::BigInt::New(env, static_cast<uint64_t>(request.id)));
    n.Set("pid", Napi::Number::New(env, request.pid));
    n.Set("nr", Napi::Number::New(env, request.data.nr));
    n.Set("arch", Napi::Number::New(env, request.data.arch));
    n.Set("instructionPointer", Napi::BigInt::New(env, static_cast<uint64_t>(request.data.instruction_pointer)));
    Napi::Array args = Napi::Array::New(env, 6);
    for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(request.data.args[i])));
    n.Set("args", args);
    call_from_event_loop(self->on_notification_, {n});
  }

  void Finish() {
    Stop();
    Napi::FunctionReference on_close = std::move(on_close_);
    on_notification_.Reset();
    self_.Reset();
    call_from_event_loop(on_close, {});
  }

  void Stop() {
    if (!poll_) return;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }

  // Stops taking notifications (they wait in the kernel) until resume(): the
  // caller bounds how many one container gets served per event-loop turn.
  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (poll_) uv_poll_stop(poll_);
    return info.Env().Undefined();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (poll_) uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, &SeccompWatcher::OnEvent);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    on_notification_.Reset();
    on_close_.Reset();
    self_.Reset();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_notification_;
  Napi::FunctionReference on_close_;
  Napi::ObjectReference self_;
};

Napi::FunctionReference SeccompWatcher::constructor;

Napi::Value WatchSeccomp(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args;
  for (size_t i = 0; i < info.Length(); i++) args.push_back(info[i]);
  return SeccompWatcher::constructor.New(args);
}

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
  Napi::Function cls = SeccompWatcher::Define(env);
  SeccompWatcher::constructor = Napi::Persistent(cls);
  SeccompWatcher::constructor.SuppressDestruct();
  exports.Set("watchSeccomp", Napi::Function::New(env, WatchSeccomp, "watchSeccomp"));
  exports.Set("respondSeccomp", Napi::Function::New(env, RespondSeccomp, "respondSeccomp"));
  exports.Set("seccompIdValid", Napi::Function::New(env, SeccompIdValid, "seccompIdValid"));
}

}  // namespace tsc
