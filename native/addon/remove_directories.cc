#include "addon/remove_directories.h"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "addon/promise_worker.h"

namespace tsc {

namespace {

// Each path's outcome as JavaScript gets it: 0 or an errno.
Napi::Array OutcomeArray(Napi::Env env, const std::vector<int>& outcomes) {
  Napi::Array result = Napi::Array::New(env, outcomes.size());
  for (size_t i = 0; i < outcomes.size(); i++) result.Set(static_cast<uint32_t>(i), Napi::Number::New(env, outcomes[i]));
  return result;
}

// What a removal and its canceller share. The worker holds the mutex around each rmdir, checks
// `cancelled` and records the outcome under it, so that once cancel() returns no rmdir of the
// removal runs any more, nor is one still running, and `outcomes` says what was done: a
// caller that finishes the removal itself must not remove again by name what the pool has
// removed already (the name may be another container's by then).
struct CancelState {
  std::mutex mutex;
  bool cancelled = false;
  // One per path, ECANCELED until its rmdir has run.
  std::vector<int> outcomes;
};

// new RemovalCanceller(): handed to removeDirectories; cancel() stops what it has not done.
class RemovalCanceller : public Napi::ObjectWrap<RemovalCanceller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RemovalCanceller", {InstanceMethod("cancel", &RemovalCanceller::Cancel)});
  }

  explicit RemovalCanceller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RemovalCanceller>(info), state_(std::make_shared<CancelState>()) {
    info.This().As<Napi::Object>().TypeTag(&kTag);
  }

  // Whether `value` is a RemovalCanceller (tagged at construction: never another wrapped object).
  static bool Is(const Napi::Value& value) { return value.IsObject() && value.As<Napi::Object>().CheckTypeTag(&kTag); }

  std::shared_ptr<CancelState> state() const { return state_; }

 private:
  // Waits for an rmdir under way (microseconds), then no other starts. Returns each path's
  // outcome so far (ECANCELED: not tried), as the promise will.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    std::vector<int> outcomes;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->cancelled = true;
      outcomes = state_->outcomes;
    }
    return OutcomeArray(info.Env(), outcomes);
  }

  static constexpr napi_type_tag kTag = {0x7473632d72656d6fULL, 0x76616c2d63616e63ULL};
  std::shared_ptr<CancelState> state_;
};

// The rmdirs of one call, on the pool. (PromiseWorker also holds the caller's list until the
// promise settles; the paths are copied, so nothing here reads it.)
class RemoveDirectoriesWorker : public PromiseWorker {
 public:
  RemoveDirectoriesWorker(Napi::Env env, Napi::Object keep_alive, std::vector<std::string> paths, bool until_failure, std::shared_ptr<CancelState> cancel)
      : PromiseWorker(env, "ts-container:remove-directories", keep_alive),
        paths_(std::move(paths)),
        until_failure_(until_failure),
        cancel_(std::move(cancel)) {
    if (cancel_) {
      std::lock_guard<std::mutex> lock(cancel_->mutex);
      cancel_->outcomes.assign(paths_.size(), ECANCELED);
    }
  }

 protected:
  void Execute() override {
    outcomes_.reserve(paths_.size());
    bool failed = false;
    for (size_t i = 0; i < paths_.size(); i++) {
      if (failed) {
        outcomes_.push_back(ECANCELED);
        continue;
      }
      int outcome = cancel_ ? RemoveUnlessCancelled(i) : Remove(paths_[i]);
      outcomes_.push_back(outcome);
      if (outcome == ECANCELED || (until_failure_ && outcome != 0 && outcome != ENOENT)) failed = true;
    }
  }

  void OnOK() override { deferred_.Resolve(OutcomeArray(Env(), outcomes_)); }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  static int Remove(const std::string& path) { return rmdir(path.c_str()) == 0 ? 0 : errno; }

  int RemoveUnlessCancelled(size_t i) {
    std::lock_guard<std::mutex> lock(cancel_->mutex);
    if (cancel_->cancelled) return ECANCELED;
    cancel_->outcomes[i] = Remove(paths_[i]);
    return cancel_->outcomes[i];
  }

  std::vector<std::string> paths_;
  bool until_failure_;
  std::shared_ptr<CancelState> cancel_;
  std::vector<int> outcomes_;
};

Napi::Value RemoveDirectories(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    throw Napi::TypeError::New(env, "removeDirectories(paths: string[], untilFailure?: boolean, canceller?: RemovalCanceller)");
  }
  if (info.Length() >= 2 && !info[1].IsUndefined() && !info[1].IsBoolean()) {
    throw Napi::TypeError::New(env, "removeDirectories: untilFailure must be a boolean");
  }
  bool until_failure = info.Length() >= 2 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  std::shared_ptr<CancelState> cancel;
  Napi::Object keep_alive = Napi::Object::New(env);
  keep_alive.Set("paths", info[0]);
  if (info.Length() >= 3 && !info[2].IsUndefined()) {
    if (!RemovalCanceller::Is(info[2])) {
      throw Napi::TypeError::New(env, "removeDirectories: canceller must be a RemovalCanceller");
    }
    cancel = RemovalCanceller::Unwrap(info[2].As<Napi::Object>())->state();
    keep_alive.Set("canceller", info[2]);
  }
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
  auto* worker = new RemoveDirectoriesWorker(env, keep_alive, std::move(paths), until_failure, std::move(cancel));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitRemoveDirectories(Napi::Env env, Napi::Object exports) {
  exports.Set("removeDirectories", Napi::Function::New(env, RemoveDirectories, "removeDirectories"));
  exports.Set("RemovalCanceller", RemovalCanceller::Define(env));
}

}  // namespace tsc
