#include "addon/remove_directories.h"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace tsc {

namespace {

class RemoveDirectoriesWorker : public Napi::AsyncWorker {
 public:
  RemoveDirectoriesWorker(Napi::Env env, std::vector<std::string> paths)
      : Napi::AsyncWorker(env, "removeDirectories"), deferred_(Napi::Promise::Deferred::New(env)), paths_(std::move(paths)) {}

  Napi::Promise Start() {
    Napi::Promise promise = deferred_.Promise();
    Queue();
    return promise;
  }

 protected:
  void Execute() override {
    outcomes_.reserve(paths_.size());
    for (const std::string& path : paths_) outcomes_.push_back(rmdir(path.c_str()) == 0 ? 0 : errno);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array outcomes = Napi::Array::New(env, outcomes_.size());
    for (size_t i = 0; i < outcomes_.size(); i++) outcomes.Set(static_cast<uint32_t>(i), Napi::Number::New(env, outcomes_[i]));
    deferred_.Resolve(outcomes);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<std::string> paths_;
  std::vector<int> outcomes_;
};

Napi::Value RemoveDirectories(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "removeDirectories(paths: string[])");
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
  return (new RemoveDirectoriesWorker(env, std::move(paths)))->Start();
}

}  // namespace

void InitRemoveDirectories(Napi::Env env, Napi::Object exports) {
  exports.Set("removeDirectories", Napi::Function::New(env, RemoveDirectories, "removeDirectories"));
}

}  // namespace tsc
