#include "addon/layer_unpack.h"

#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "addon/creator_ids.h"
#include "addon/id_map_value.h"
#include "addon/layer_applier.h"
#include "addon/path_in_container.h"
#include "addon/promise_worker.h"
#include "common/unique_fd.h"

namespace tsc {

namespace {

// An Error with `entry`, `errno`, `code` (Node's name for the errno) and `step`.
Napi::Error entry_error(Napi::Env env, const LayerEntryError& e) {
  std::string text = e.what + ": " + strerror(e.err);
  Napi::Error error = Napi::Error::New(env, text);
  error.Set("entry", Napi::String::New(env, e.entry));
  error.Set("errno", Napi::Number::New(env, e.err));
  error.Set("code", Napi::String::New(env, uv_err_name(-e.err)));
  error.Set("step", Napi::String::New(env, e.what));
  return error;
}

uint32_t u32(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

std::string str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

std::string bytes_of(const Napi::Value& v) {
  if (v.IsBuffer()) {
    auto b = v.As<Napi::Buffer<char>>();
    return std::string(b.Data(), b.Length());
  }
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// One entry object of lib/images/layer-ops.ts; data Buffers are borrowed.
LayerEntry to_entry(const Napi::Object& o) {
  LayerEntry e;
  e.kind = static_cast<LayerEntryKind>(u32(o, "kind"));
  e.path = str(o, "path");
  e.link = str(o, "link");
  e.mode = u32(o, "mode");
  e.uid = u32(o, "uid");
  e.gid = u32(o, "gid");
  Napi::Value mtime = o.Get("mtime");
  if (mtime.IsNumber()) e.mtime_sec = mtime.As<Napi::Number>().Int64Value();
  e.mtime_nsec = u32(o, "mtimeNsec");
  e.dev_major = u32(o, "devMajor");
  e.dev_minor = u32(o, "devMinor");
  Napi::Value size = o.Get("size");
  if (size.IsNumber()) e.size = static_cast<uint64_t>(size.As<Napi::Number>().Int64Value());
  Napi::Value xattrs = o.Get("xattrs");
  if (xattrs.IsArray()) {
    auto list = xattrs.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      auto pair = list.Get(i).As<Napi::Array>();
      e.xattrs.emplace_back(pair.Get(0u).As<Napi::String>().Utf8Value(), bytes_of(pair.Get(1u)));
    }
  }
  Napi::Value data = o.Get("data");
  if (data.IsArray()) {
    auto list = data.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value chunk = list.Get(i);
      if (!chunk.IsTypedArray()) continue;
      auto view = chunk.As<Napi::Uint8Array>();
      e.data.emplace_back(reinterpret_cast<const char*>(view.Data()), view.ByteLength());
    }
  }
  return e;
}

class LayerApplierHandle;

// Applies one batch (or finishes) off the event loop.
// keep_alive: the batch's Buffers, and the handle itself.
class ApplyWorker : public PromiseWorker {
 public:
  ApplyWorker(Napi::Env env, LayerApplierHandle* handle, std::vector<LayerEntry> entries, Napi::Object keep_alive, bool finish,
              std::vector<int> lower_fds = {})
      : PromiseWorker(env, "ts-container:layer-apply", keep_alive),
        handle_(handle),
        entries_(std::move(entries)),
        finish_(finish),
        lower_fds_(std::move(lower_fds)) {}
  ~ApplyWorker() override {
    for (int fd : lower_fds_) close(fd);
  }

  void Execute() override;
  void OnOK() override;

 private:
  LayerApplierHandle* handle_;
  std::vector<LayerEntry> entries_;
  bool finish_;
  // The layers below, for an applier that takes them at finish (owned until handed over).
  std::vector<int> lower_fds_;
  bool failed_ = false;
  LayerEntryError error_;
};

class LayerApplierHandle : public Napi::ObjectWrap<LayerApplierHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LayerApplier",
                       {InstanceMethod("apply", &LayerApplierHandle::Apply), InstanceMethod("finish", &LayerApplierHandle::Finish),
                        InstanceMethod("close", &LayerApplierHandle::Close)});
  }

  explicit LayerApplierHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LayerApplierHandle>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, "openLayerApplier(directory, { opaqueXattr, privileged })").ThrowAsJavaScriptException();
      return;
    }
    std::string dir = info[0].As<Napi::String>().Utf8Value();
    LayerApplierOptions options;
    std::string in_root;
    if (info.Length() > 1 && info[1].IsObject()) {
      auto o = info[1].As<Napi::Object>();
      // A copy into a container: `dir` is a path inside the container's root `root`.
      if (o.Get("root").IsString()) in_root = o.Get("root").As<Napi::String>().Utf8Value();
      options.uid_map = id_map_of(o.Get("uidMap"));
      options.gid_map = id_map_of(o.Get("gidMap"));
      if (o.Get("replaceDirectories").IsBoolean()) options.replace_directories = o.Get("replaceDirectories").As<Napi::Boolean>().Value();
      if (o.Get("opaqueXattr").IsString()) options.opaque_xattr = o.Get("opaqueXattr").As<Napi::String>().Utf8Value();
      if (o.Get("privileged").IsBoolean()) options.privileged = o.Get("privileged").As<Napi::Boolean>().Value();
      if (o.Get("lowersAtFinish").IsBoolean()) options.lowers_at_finish = o.Get("lowersAtFinish").As<Napi::Boolean>().Value();
      if (!open_lowers(env, o.Get("lowerDirs"), &options.lower_fds)) return;
    }
    int fd = -1;
    LayerEntryError failure{"", 0, ""};
    if (in_root.empty()) {
      fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) failure = LayerEntryError{"", errno, "open layer directory " + dir};
    } else {
      try {
        UniqueFd root(open_container_root(in_root));
        fd = open_in_container(root.get(), dir, O_RDONLY | O_DIRECTORY);
      } catch (const ContainerPathError& e) {
        failure = LayerEntryError{dir, e.err, e.what};
      }
    }
    if (fd < 0) {
      for (int opened : options.lower_fds) close(opened);
      entry_error(env, failure).ThrowAsJavaScriptException();
      return;
    }
    applier_ = std::make_unique<LayerApplier>(fd, options);
    try {
      applier_->inherit_root();
    } catch (const LayerEntryError& e) {
      applier_.reset();
      entry_error(env, e).ThrowAsJavaScriptException();
    }
  }

  // O_PATH fds of the lower layer directories in `dirs` (an array of paths, top first); false
  // with a JavaScript exception pending when one cannot be opened.
  static bool open_lowers(Napi::Env env, Napi::Value dirs, std::vector<int>* fds) {
    if (!dirs.IsArray()) return true;
    auto lowers = dirs.As<Napi::Array>();
    for (uint32_t i = 0; i < lowers.Length(); i++) {
      std::string lower = lowers.Get(i).As<Napi::String>().Utf8Value();
      int fd = open(lower.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        int err = errno;
        for (int opened : *fds) close(opened);
        fds->clear();
        entry_error(env, LayerEntryError{"", err, "open lower layer " + lower}).ThrowAsJavaScriptException();
        return false;
      }
      fds->push_back(fd);
    }
    return true;
  }

  LayerApplier* applier() { return applier_.get(); }
  void set_busy(bool busy) { busy_ = busy; }

 private:
  Napi::Value Queue(const Napi::CallbackInfo& info, std::vector<LayerEntry> entries, Napi::Object keep_alive, bool finish,
                    std::vector<int> lower_fds = {}) {
    Napi::Env env = info.Env();
    if (!applier_ || busy_) {
      for (int fd : lower_fds) close(fd);
      throw Napi::Error::New(env, !applier_ ? "layer applier: closed" : "layer applier: one batch at a time");
    }
    busy_ = true;
    auto* worker = new ApplyWorker(env, this, std::move(entries), keep_alive, finish, std::move(lower_fds));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  // apply(entries: object[]) → Promise<void>
  Napi::Value Apply(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "apply(entries)");
    auto list = info[0].As<Napi::Array>();
    std::vector<LayerEntry> entries;
    entries.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) entries.push_back(to_entry(list.Get(i).As<Napi::Object>()));
    Napi::Object keep = Napi::Object::New(env);
    keep.Set("entries", list);
    keep.Set("handle", info.This());
    return Queue(info, std::move(entries), keep, false);
  }

  // finish(lowerDirs?) → Promise<void>: directory modes and mtimes, after the last batch;
  // lowerDirs: the layers below, for an applier made with lowersAtFinish.
  Napi::Value Finish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int> lower_fds;
    if (info.Length() > 0 && !open_lowers(env, info[0], &lower_fds)) return env.Undefined();
    Napi::Object keep = Napi::Object::New(env);
    keep.Set("handle", info.This());
    return Queue(info, {}, keep, true, std::move(lower_fds));
  }

  // close(): releases the directory fds (after finish, or to abandon the layer).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_) throw Napi::Error::New(info.Env(), "layer applier: close while a batch runs");
    applier_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<LayerApplier> applier_;
  bool busy_ = false;
};

void ApplyWorker::Execute() {
  uid_t uid;
  gid_t gid;
  std::unique_ptr<CreatorIds> as_container_root;
  if (handle_->applier()->creator_ids(&uid, &gid)) as_container_root = std::make_unique<CreatorIds>(uid, gid);
  try {
    for (const LayerEntry& e : entries_) handle_->applier()->apply(e);
    if (finish_) {
      // The applier owns the fds from here, whatever finish does.
      std::vector<int> lowers = std::move(lower_fds_);
      lower_fds_.clear();
      handle_->applier()->finish(std::move(lowers));
    }
  } catch (const LayerEntryError& e) {
    failed_ = true;
    error_ = e;
  }
}

void ApplyWorker::OnOK() {
  handle_->set_busy(false);
  if (failed_) {
    deferred_.Reject(entry_error(Env(), error_).Value());
  } else {
    deferred_.Resolve(Env().Undefined());
  }
}

}  // namespace

void InitLayerUnpack(Napi::Env env, Napi::Object exports) {
  // The exports object holds the class for as long as the addon is loaded.
  exports.Set("LayerApplier", LayerApplierHandle::Define(env));
}

}  // namespace tsc
