#include "addon/stream_hash.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "addon/promise_worker.h"
#include "addon/sha256.h"

namespace tsc {

namespace {

class StreamHashHandle;

// Hashes one batch of borrowed byte ranges off the event loop; keep_alive holds the batch's
// buffers and the handle.
class HashWorker : public PromiseWorker {
 public:
  HashWorker(Napi::Env env, StreamHashHandle* handle, std::vector<std::pair<const unsigned char*, size_t>> ranges, Napi::Object keep_alive)
      : PromiseWorker(env, "ts-container:stream-hash", keep_alive), handle_(handle), ranges_(std::move(ranges)) {}

  void Execute() override;
  void OnOK() override;

 private:
  StreamHashHandle* handle_;
  std::vector<std::pair<const unsigned char*, size_t>> ranges_;
  bool failed_ = false;
};

class StreamHashHandle : public Napi::ObjectWrap<StreamHashHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "StreamHash", {InstanceMethod("update", &StreamHashHandle::Update), InstanceMethod("digest", &StreamHashHandle::Digest)});
  }

  explicit StreamHashHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StreamHashHandle>(info) {
    if (!sha_.ready()) {
      Napi::Error::New(info.Env(), "StreamHash: cannot start a SHA-256").ThrowAsJavaScriptException();
    }
  }

  // Runs on the thread pool; only one update at a time touches the context.
  bool Hash(const std::vector<std::pair<const unsigned char*, size_t>>& ranges) {
    for (const auto& [data, length] : ranges) {
      if (!sha_.Update(data, length)) return false;
    }
    return true;
  }
  void set_busy(bool busy) { busy_ = busy; }

 private:
  // update(chunks: Uint8Array[]) → Promise<void>, one at a time, in the order called.
  Napi::Value Update(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "update(chunks)");
    if (busy_) throw Napi::Error::New(env, "StreamHash: one update at a time");
    if (finished_) throw Napi::Error::New(env, "StreamHash: already digested");
    auto list = info[0].As<Napi::Array>();
    std::vector<std::pair<const unsigned char*, size_t>> ranges;
    ranges.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value chunk = list.Get(i);
      if (!chunk.IsTypedArray()) throw Napi::TypeError::New(env, "update(chunks): not a Uint8Array");
      auto view = chunk.As<Napi::Uint8Array>();
      ranges.emplace_back(view.Data(), view.ByteLength());
    }
    Napi::Object keep = Napi::Object::New(env);
    keep.Set("chunks", list);
    keep.Set("handle", info.This());
    busy_ = true;
    auto* worker = new HashWorker(env, this, std::move(ranges), keep);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  // digest() → the lowercase hex of everything hashed; ends the hash.
  Napi::Value Digest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (busy_) throw Napi::Error::New(env, "StreamHash: digest while an update runs");
    if (finished_) throw Napi::Error::New(env, "StreamHash: already digested");
    finished_ = true;
    std::string out;
    if (!sha_.FinishHex(out)) throw Napi::Error::New(env, "StreamHash: SHA-256 failed");
    return Napi::String::New(env, out);
  }

  Sha256 sha_;
  bool busy_ = false;
  bool finished_ = false;
};

void HashWorker::Execute() { failed_ = !handle_->Hash(ranges_); }

void HashWorker::OnOK() {
  handle_->set_busy(false);
  if (failed_) {
    deferred_.Reject(Napi::Error::New(Env(), "StreamHash: SHA-256 failed").Value());
  } else {
    deferred_.Resolve(Env().Undefined());
  }
}

}  // namespace

void InitStreamHash(Napi::Env env, Napi::Object exports) { exports.Set("StreamHash", StreamHashHandle::Define(env)); }

}  // namespace tsc
