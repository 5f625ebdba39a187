#include "addon/early_writeback.h"

#include <fcntl.h>

#include <cerrno>

#include "addon/errno_promise_worker.h"

namespace tsc {

namespace {

class WritebackWorker : public ErrnoPromiseWorker {
 public:
  WritebackWorker(Napi::Env env, int fd, int64_t offset, int64_t length)
      : ErrnoPromiseWorker(env, "startWriteback", "start the writeback"), fd_(fd), offset_(offset), length_(length) {}

 protected:
  int Run() override { return sync_file_range(fd_, offset_, length_, SYNC_FILE_RANGE_WRITE) < 0 ? errno : 0; }

 private:
  int fd_;
  int64_t offset_;
  int64_t length_;
};

Napi::Value StartWriteback(const Napi::CallbackInfo& info) {
  return (new WritebackWorker(info.Env(), info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int64Value(),
                              info[2].As<Napi::Number>().Int64Value()))
      ->Start();
}

}  // namespace

void InitEarlyWriteback(Napi::Env env, Napi::Object exports) {
  exports.Set("startWriteback", Napi::Function::New(env, StartWriteback, "startWriteback"));
}

}  // namespace tsc
