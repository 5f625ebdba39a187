#include "addon/layer_inflate.h"

#include <zlib.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "addon/promise_worker.h"

namespace tsc {

namespace {

// A failure as Node's zlib reports it: its message and the zlib code's name.
struct InflateFailure {
  std::string message;
  std::string code;
};

// The state of one gzip stream (one or more members, as gunzip reads them). Only one task at a
// time touches it (the handle's busy flag).
class GzipStream {
 public:
  GzipStream() {
    std::memset(&strm_, 0, sizeof strm_);
    // 15 + 16: gzip framing only, as Node's createGunzip.
    ready_ = inflateInit2(&strm_, 15 + 16) == Z_OK;
  }
  ~GzipStream() { inflateEnd(&strm_); }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  bool ready() const { return ready_; }

  // Inflates the input ranges into `out` until the input is used up or `out` is full. Sets
  // `consumed` (input bytes taken, over all ranges) and `produced`. `last`: no input follows
  // these ranges, so a stream that stops inside a member is truncated.
  bool Run(const std::vector<std::pair<const unsigned char*, size_t>>& input, unsigned char* out, size_t capacity, bool last,
           size_t& consumed, size_t& produced, InflateFailure& failure) {
    consumed = 0;
    produced = 0;
    size_t index = 0;
    strm_.avail_in = 0;
    for (;;) {
      if (strm_.avail_in == 0) {
        while (index < input.size() && input[index].second == 0) index++;
        if (index == input.size()) {
          // The input is used up; a match or stored block cut short by a full `out` last time
          // may still have output to give without any.
          if (member_ended_ || ignoring_rest_ || produced == capacity || !Drain(out, capacity, produced, failure)) break;
          if (failure.code.size() > 0) return false;
          continue;
        }
        strm_.next_in = const_cast<unsigned char*>(input[index].first);
        strm_.avail_in = static_cast<uInt>(input[index].second);
        index++;
      }
      if (ignoring_rest_) {
        consumed += strm_.avail_in;
        strm_.avail_in = 0;
        continue;
      }
      if (member_ended_) {
        // After a member: zero bytes end the stream (padding, ignored with all that follows, as
        // Node's gunzip does); anything else is the next member.
        if (strm_.next_in[0] == 0) {
          ignoring_rest_ = true;
          continue;
        }
        if (inflateReset(&strm_) != Z_OK) return Fail(failure, Z_STREAM_ERROR);
        member_ended_ = false;
      }
      if (produced == capacity) break;
      uInt before_in = strm_.avail_in;
      strm_.next_out = out + produced;
      strm_.avail_out = static_cast<uInt>(capacity - produced);
      int ret = inflate(&strm_, Z_NO_FLUSH);
      consumed += before_in - strm_.avail_in;
      produced = capacity - strm_.avail_out;
      if (ret == Z_STREAM_END) {
        member_ended_ = true;
        members_++;
        continue;
      }
      if (ret == Z_BUF_ERROR) continue;  // no progress: input used up, or output full
      if (ret != Z_OK) return Fail(failure, ret == Z_NEED_DICT ? Z_DATA_ERROR : ret);
    }
    // Room left in `out` with the input used up: inflate has nothing more to give until more
    // input comes, and none will.
    if (last && produced < capacity && !member_ended_ && !ignoring_rest_) {
      failure = {"unexpected end of file", "Z_BUF_ERROR"};
      return false;
    }
    return true;
  }

  bool ended() const { return member_ended_ || ignoring_rest_; }

  // One inflate with no input; true when it gave output or ended the member (a failure sets
  // `failure` and returns true, for the caller to stop).
  bool Drain(unsigned char* out, size_t capacity, size_t& produced, InflateFailure& failure) {
    strm_.next_in = nullptr;
    strm_.avail_in = 0;
    strm_.next_out = out + produced;
    strm_.avail_out = static_cast<uInt>(capacity - produced);
    int ret = inflate(&strm_, Z_NO_FLUSH);
    size_t before = produced;
    produced = capacity - strm_.avail_out;
    if (ret == Z_STREAM_END) {
      member_ended_ = true;
      members_++;
      return true;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      Fail(failure, ret == Z_NEED_DICT ? Z_DATA_ERROR : ret);
      return true;
    }
    return produced > before;
  }

 private:
  bool Fail(InflateFailure& failure, int ret) {
    failure.message = strm_.msg ? strm_.msg : "zlib error";
    switch (ret) {
      case Z_DATA_ERROR:
        failure.code = "Z_DATA_ERROR";
        break;
      case Z_MEM_ERROR:
        failure.code = "Z_MEM_ERROR";
        break;
      default:
        failure.code = "Z_STREAM_ERROR";
    }
    return false;
  }

  z_stream strm_;
  bool ready_ = false;
  bool member_ended_ = false;
  bool ignoring_rest_ = false;
  unsigned members_ = 0;
};

class LayerInflaterHandle;

// One inflate call off the event loop; keep_alive holds the input, the output and the handle.
class InflateWorker : public PromiseWorker {
 public:
  InflateWorker(Napi::Env env, LayerInflaterHandle* handle, std::vector<std::pair<const unsigned char*, size_t>> input, unsigned char* out,
                size_t capacity, bool last, Napi::Object keep_alive)
      : PromiseWorker(env, "ts-container:layer-inflate", keep_alive),
        handle_(handle),
        input_(std::move(input)),
        out_(out),
        capacity_(capacity),
        last_(last) {}

  void Execute() override;
  void OnOK() override;

 private:
  LayerInflaterHandle* handle_;
  std::vector<std::pair<const unsigned char*, size_t>> input_;
  unsigned char* out_;
  size_t capacity_;
  bool last_;
  size_t consumed_ = 0;
  size_t produced_ = 0;
  bool failed_ = false;
  InflateFailure failure_;
};

class LayerInflaterHandle : public Napi::ObjectWrap<LayerInflaterHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LayerInflater",
                       {InstanceMethod("inflate", &LayerInflaterHandle::Inflate)});
  }

  explicit LayerInflaterHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LayerInflaterHandle>(info), stream_(new GzipStream()) {
    if (!stream_->ready()) Napi::Error::New(info.Env(), "LayerInflater: cannot start zlib").ThrowAsJavaScriptException();
  }

  GzipStream& stream() { return *stream_; }
  void set_busy(bool busy) { busy_ = busy; }

 private:
  // inflate(input: Uint8Array[], out: Uint8Array, last: boolean) → Promise<{ consumed, produced, ended }>
  Napi::Value Inflate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsTypedArray()) throw Napi::TypeError::New(env, "inflate(input, out, last)");
    if (busy_) throw Napi::Error::New(env, "LayerInflater: one call at a time");
    auto list = info[0].As<Napi::Array>();
    std::vector<std::pair<const unsigned char*, size_t>> input;
    input.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value chunk = list.Get(i);
      if (!chunk.IsTypedArray()) throw Napi::TypeError::New(env, "inflate(input): not a Uint8Array");
      auto view = chunk.As<Napi::Uint8Array>();
      input.emplace_back(view.Data(), view.ByteLength());
    }
    auto out = info[1].As<Napi::Uint8Array>();
    if (out.ByteLength() == 0) throw Napi::RangeError::New(env, "inflate(out): an empty buffer");
    Napi::Object keep = Napi::Object::New(env);
    keep.Set("input", list);
    keep.Set("out", out);
    keep.Set("handle", info.This());
    busy_ = true;
    auto* worker = new InflateWorker(env, this, std::move(input), out.Data(), out.ByteLength(), info[2].ToBoolean().Value(), keep);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  std::unique_ptr<GzipStream> stream_;
  bool busy_ = false;
};

void InflateWorker::Execute() { failed_ = !handle_->stream().Run(input_, out_, capacity_, last_, consumed_, produced_, failure_); }

void InflateWorker::OnOK() {
  Napi::Env env = Env();
  handle_->set_busy(false);
  if (failed_) {
    Napi::Error error = Napi::Error::New(env, failure_.message);
    error.Set("code", Napi::String::New(env, failure_.code));
    deferred_.Reject(error.Value());
    return;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("consumed", Napi::Number::New(env, static_cast<double>(consumed_)));
  result.Set("produced", Napi::Number::New(env, static_cast<double>(produced_)));
  result.Set("ended", Napi::Boolean::New(env, handle_->stream().ended()));
  deferred_.Resolve(result);
}

}  // namespace

void InitLayerInflate(Napi::Env env, Napi::Object exports) { exports.Set("LayerInflater", LayerInflaterHandle::Define(env)); }

}  // namespace tsc
