// Work for libuv's thread pool whose outcome is an errno: JavaScript gets a Promise that
// resolves (0) or rejects with the errno error of the step (errno_error.h).
#pragma once

#include <napi.h>

#include <string>
#include <utility>

#include "addon/errno_error.h"

namespace tsc {

class ErrnoPromiseWorker : public Napi::AsyncWorker {
 public:
  ErrnoPromiseWorker(Napi::Env env, const char* resource_name, std::string step)
      : Napi::AsyncWorker(env, resource_name), deferred_(Napi::Promise::Deferred::New(env)), step_(std::move(step)) {}

  // Queues the work (the worker deletes itself once settled) and returns its promise.
  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  // The work, on the pool: 0, or the errno it failed with.
  virtual int Run() = 0;

 private:
  void Execute() override { err_ = Run(); }

  void OnOK() override {
    if (err_ == 0) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(errno_error(Env(), err_, step_).Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

  Napi::Promise::Deferred deferred_;
  std::string step_;
  int err_ = 0;
};

}  // namespace tsc
