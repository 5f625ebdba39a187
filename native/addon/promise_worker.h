// Work for libuv's thread pool whose outcome JavaScript gets as a Promise, keeping an object
// (the borrowed Buffers, the handle that runs the work) alive until it settles.
#pragma once

#include <napi.h>

namespace tsc {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* resource_name, Napi::Object keep_alive)
      : Napi::AsyncWorker(env, resource_name), deferred_(Napi::Promise::Deferred::New(env)) {
    keep_alive_ = Napi::Persistent(keep_alive);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  Napi::Promise::Deferred deferred_;

 private:
  Napi::ObjectReference keep_alive_;
};

}  // namespace tsc
