#include "addon/exit_watcher.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "addon/fd_watcher.h"

namespace tsc {

namespace {

class ExitWatcher : public FdWatcher<ExitWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ExitWatcher",
                       {InstanceMethod("close", &ExitWatcher::Close), InstanceMethod("ref", &ExitWatcher::Ref),
                        InstanceMethod("unref", &ExitWatcher::Unref)});
  }

  explicit ExitWatcher(const Napi::CallbackInfo& info) : FdWatcher<ExitWatcher>(info) {
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
    StartWatching(info, pidfd_, UV_READABLE, "watch pidfd");
  }

 private:
  void OnEvent(int status, int events) override {
    siginfo_t info = {};
    struct rusage usage = {};
    if (!reap_) {
      Deliver(-1, info, usage);
      return;
    }
    long rc;
    // The raw system call also returns the process's resource usage.
    do {
      rc = syscall(SYS_waitid, P_PIDFD, pidfd_, &info, WEXITED | WNOHANG, &usage);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) return;  // not exited yet
    Deliver(static_cast<int>(rc), info, usage);
  }

  void Deliver(int rc, const siginfo_t& info, const struct rusage& usage) {
    Napi::Env env = Env();
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
    FinishWith(callback_, {code, signal, resources});
  }

  void DropCallbacks() override { callback_.Reset(); }

  int pidfd_ = -1;
  bool reap_ = true;
  Napi::FunctionReference callback_;
};

}  // namespace

void InitExitWatcher(Napi::Env env, Napi::Object exports) { ExitWatcher::Export(env, exports, "watchExit"); }

}  // namespace tsc
