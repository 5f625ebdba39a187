// What the addon's three libuv watchers share (a pidfd's exit, a seccomp
// listener, a terminal's master): a JavaScript object that watches one fd with
// a uv_poll handle and calls back into JavaScript when it becomes readable.
// The lifecycle lives here, once:
// - the object stays alive while it watches (a reference to itself), and
//   through an event even when a callback closes it and drops the last handle;
// - stopping closes the poll handle exactly once, from close(), from the last
//   callback, or from the destructor, whichever comes first;
// - the last callback is taken out before it is called, so it runs once, and
//   the others are dropped, so nothing is called after it;
// - an exception thrown by a callback is the program's, as in any event
//   handler: it goes to 'uncaughtException'. Left to propagate, it would cross
//   libuv and end the process (and it is thrown, too, when the callback fires
//   while Node tears its environment down).
// The fd itself belongs to the caller, who closes it after close().
#pragma once

#include <napi.h>
#include <uv.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace tsc {

template <typename Derived>
class FdWatcher : public Napi::ObjectWrap<Derived> {
 public:
  // Defines the JavaScript class (Derived::Define) and exports `factory`, a
  // plain function that constructs it with the arguments it is given.
  static void Export(Napi::Env env, Napi::Object exports, const char* factory) {
    Constructor() = Napi::Persistent(Derived::Define(env));
    Constructor().SuppressDestruct();
    exports.Set(factory, Napi::Function::New(env, &FdWatcher::NewFromCall, factory));
  }

 protected:
  explicit FdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}
  ~FdWatcher() override { StopWatching(); }

  // Starts watching `fd` for `events`, calling OnEvent. On failure throws
  // "<what>: <libuv's message>" to JavaScript and returns false.
  bool StartWatching(const Napi::CallbackInfo& info, int fd, int events, const char* what) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(info.Env(), &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    events_ = events;
    int rc = uv_poll_init(loop, poll_, fd);
    if (rc == 0) rc = uv_poll_start(poll_, events_, &FdWatcher::Dispatch);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      Napi::Error::New(info.Env(), std::string(what) + ": " + uv_strerror(rc)).ThrowAsJavaScriptException();
      return false;
    }
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    return true;
  }

  // Called with a handle scope open; status is libuv's (negative: an error).
  virtual void OnEvent(int status, int events) = 0;

  // Resets every callback reference, so that nothing is called any more.
  virtual void DropCallbacks() = 0;

  // The end: stops watching, lets the object go and calls `last` once.
  void FinishWith(Napi::FunctionReference& last, const std::initializer_list<napi_value>& args) {
    StopWatching();
    Napi::FunctionReference callback = std::move(last);
    DropCallbacks();
    self_.Reset();
    CallFromEventLoop(callback, args);
  }

  static void CallFromEventLoop(const Napi::FunctionReference& callback, const std::initializer_list<napi_value>& args) {
    if (callback.IsEmpty()) return;
    Napi::Env env = callback.Env();
    try {
      callback.MakeCallback(env.Global(), args);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  // The JavaScript methods a watcher may expose, in Derived::Define.

  // close(): stops watching without calling anything.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopWatching();
    DropCallbacks();
    self_.Reset();
    return info.Env().Undefined();
  }

  // pause() and resume(): events wait (in the kernel) in between.
  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (poll_) uv_poll_stop(poll_);
    return info.Env().Undefined();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (poll_) uv_poll_start(poll_, events_, &FdWatcher::Dispatch);
    return info.Env().Undefined();
  }

  // ref() and unref(): whether the watch keeps Node running.
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

 private:
  static Napi::FunctionReference& Constructor() {
    static Napi::FunctionReference constructor;
    return constructor;
  }

  static Napi::Value NewFromCall(const Napi::CallbackInfo& info) {
    std::vector<napi_value> args;
    for (size_t i = 0; i < info.Length(); i++) args.push_back(info[i]);
    return Constructor().New(args);
  }

  static void Dispatch(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<FdWatcher*>(handle->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // A callback may close this watcher and drop the last reference to it:
    // the local handle keeps it alive until the event is handled.
    Napi::Object keep_alive = self->Value();
    (void)keep_alive;
    try {
      self->OnEvent(status, events);
    } catch (const Napi::Error&) {
      // Only while Node tears its environment down (a process killed at exit is seen then):
      // no value can be made for JavaScript any more, and nothing is left to tell.
    }
  }

  void StopWatching() {
    if (!poll_) return;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }

  uv_poll_t* poll_ = nullptr;
  int events_ = 0;
  Napi::ObjectReference self_;  // keeps the JavaScript object alive while it watches
};

}  // namespace tsc
