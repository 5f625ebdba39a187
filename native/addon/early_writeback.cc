#include "addon/early_writeback.h"

#include <fcntl.h>

#include <cerrno>

#include "addon/errno_error.h"

namespace tsc {

namespace {

class WritebackWorker : public Napi::AsyncWorker {
 public:
  WritebackWorker(Napi::Env env, int fd, int64_t offset, int64_t length)
      : Napi::AsyncWorker(env, "startWriteback"), deferred_(Napi::Promise::Deferred::New(env)), fd_(fd), offset_(offset), length_(length) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    if (sync_file_range(fd_, offset_, length_, SYNC_FILE_RANGE_WRITE) < 0) err_ = errno;
  }

  void OnOK() override {
    if (err_ == 0) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(errno_error(Env(), err_, "start the writeback").Value());
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  int64_t offset_;
  int64_t length_;
  int err_ = 0;
};

Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* worker = new WritebackWorker(env, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int64Value(),
                                     info[2].As<Napi::Number>().Int64Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitEarlyWriteback(Napi::Env env, Napi::Object exports) {
  exports.Set("startWriteback", Napi::Function::New(env, StartWriteback, "startWriteback"));
}

}  // namespace tsc
