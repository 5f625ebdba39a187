#include "addon/remove_directories.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "addon/promise_worker.h"

namespace tsc {

namespace {

// The rmdirs of one call, on the pool. (PromiseWorker also holds the caller's list until the
// promise settles; the paths are copied, so nothing here reads it.)
class RemoveDirectoriesWorker : public PromiseWorker {
 public:
  RemoveDirectoriesWorker(Napi::Env env, Napi::Object list, std::vector<std::string> paths, bool until_failure)
      : PromiseWorker(env, "ts-container:remove-directories", list), paths_(std::move(paths)), until_failure_(until_failure) {}

 protected:
  void Execute() override {
    outcomes_.reserve(paths_.size());
    bool failed = false;
    for (const std::string& path : paths_) {
      if (failed) {
        outcomes_.push_back(ECANCELED);
        continue;
      }
      int outcome = rmdir(path.c_str()) == 0 ? 0 : errno;
      outcomes_.push_back(outcome);
      if (until_failure_ && outcome != 0 && outcome != ENOENT) failed = true;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array outcomes = Napi::Array::New(env, outcomes_.size());
    for (size_t i = 0; i < outcomes_.size(); i++) outcomes.Set(static_cast<uint32_t>(i), Napi::Number::New(env, outcomes_[i]));
    deferred_.Resolve(outcomes);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  std::vector<std::string> paths_;
  bool until_failure_;
  std::vector<int> outcomes_;
};

Napi::Value RemoveDirectories(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "removeDirectories(paths: string[], untilFailure?: boolean)");
  if (info.Length() >= 2 && !info[1].IsUndefined() && !info[1].IsBoolean()) {
    throw Napi::TypeError::New(env, "removeDirectories: untilFailure must be a boolean");
  }
  bool until_failure = info.Length() >= 2 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, "removeDirectories: expected absolute paths");
    std::string path = item.As<Napi::String>().Utf8Value();
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
      throw Napi::TypeError::New(env, "removeDirectories: expected absolute paths");
    }
    paths.push_back(std::move(path));
  }
  auto* worker = new RemoveDirectoriesWorker(env, list, std::move(paths), until_failure);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitRemoveDirectories(Napi::Env env, Napi::Object exports) {
  exports.Set("removeDirectories", Napi::Function::New(env, RemoveDirectories, "removeDirectories"));
}

}  // namespace tsc
