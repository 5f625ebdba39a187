#include "addon/exit_watcher.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>

#include "addon/event_loop_callback.h"

namespace tsc {

namespace {

class ExitWatcher : public Napi::ObjectWrap<ExitWatcher> {
 public:
  static Napi::FunctionReference constructor;

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ExitWatcher",
                       {InstanceMethod("close", &ExitWatcher::Close), InstanceMethod("ref", &ExitWatcher::Ref),
                        InstanceMethod("unref", &ExitWatcher::Unref)});
  }

  explicit ExitWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExitWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "watchExit(pidfd, callback)").ThrowAsJavaScriptException();
      return;
    }
    pidfd_ = info[0].As<Napi::Number>().Int32Value();
    // A process that is not ours (a detached container's, or another Node's) is
    // only watched: its parent reaps it and records how it ended.
    reap_ = info.Length() < 3 || !info[2].IsBoolean() || info[2].As<Napi::Boolean>().Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, pidfd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, &ExitWatcher::OnReadable);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      Napi::Error::New(env, std::string("watch pidfd: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    // Keeps this object alive while the poll runs.
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
  }

  ~ExitWatcher() override { StopPolling(); }

 private:
  static void OnReadable(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<ExitWatcher*>(handle->data);
    siginfo_t info = {};
    struct rusage usage = {};
    if (!self->reap_) {
      self->Deliver(-1, info, usage);
      return;
    }
    long rc;
    // The raw system call also returns the process's resource usage.
    do {
      rc = syscall(SYS_waitid, P_PIDFD, self->pidfd_, &info, WEXITED | WNOHANG, &usage);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) return;  // not exited yet
    self->Deliver(static_cast<int>(rc), info, usage);
  }

  void Deliver(int rc, const siginfo_t& info, const struct rusage& usage) {
    Napi::Env env = callback_.Env();
    Napi::HandleScope scope(env);
    StopPolling();
    Napi::Value code = env.Null();
    Napi::Value signal = env.Null();
    if (rc == 0 && info.si_code == CLD_EXITED) {
      code = Napi::Number::New(env, info.si_status);
    } else if (rc == 0) {
      signal = Napi::Number::New(env, info.si_status);
    }
    Napi::Object resources = Napi::Object::New(env);
    resources.Set("userMicros", Napi::Number::New(env, static_cast<double>(usage.ru_utime.tv_sec) * 1e6 + usage.ru_utime.tv_usec));
    resources.Set("systemMicros", Napi::Number::New(env, static_cast<double>(usage.ru_stime.tv_sec) * 1e6 + usage.ru_stime.tv_usec));
    resources.Set("maxRssKib", Napi::Number::New(env, static_cast<double>(usage.ru_maxrss)));
    Napi::FunctionReference callback = std::move(callback_);
    self_.Reset();
    call_from_event_loop(callback, {code, signal, resources});
  }

  void StopPolling() {
    if (!poll_) return;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }

  // A detached container's exit does not keep Node running, unless someone waits for it.
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPolling();
    callback_.Reset();
    self_.Reset();
    return info.Env().Undefined();
  }

  int pidfd_ = -1;
  bool reap_ = true;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::ObjectReference self_;
};

Napi::FunctionReference ExitWatcher::constructor;

}  // namespace

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args;
  for (size_t i = 0; i < info.Length(); i++) args.push_back(info[i]);
  return ExitWatcher::constructor.New(args);
}

void InitExitWatcher(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = ExitWatcher::Define(env);
  ExitWatcher::constructor = Napi::Persistent(cls);
  ExitWatcher::constructor.SuppressDestruct();
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
}

}  // namespace tsc
