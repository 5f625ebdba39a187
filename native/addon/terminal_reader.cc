#include "addon/terminal_reader.h"

#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "addon/event_loop_callback.h"

namespace tsc {

namespace {

// What one readable event hands to JavaScript at most: the loop gets its turn
// back even while a program writes without pause.
constexpr size_t kMostPerEvent = 256 * 1024;

class TerminalReader : public Napi::ObjectWrap<TerminalReader> {
 public:
  static Napi::FunctionReference constructor;

  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TerminalReader",
                       {InstanceMethod("pause", &TerminalReader::Pause), InstanceMethod("resume", &TerminalReader::Resume),
                        InstanceMethod("close", &TerminalReader::Close)});
  }

  explicit TerminalReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TerminalReader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "readTerminal(fd, onData, onEnd)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    on_data_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_end_ = Napi::Persistent(info[2].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      Napi::Error::New(env, std::string("watch the terminal: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    // Keeps this object alive while the poll handle exists.
    self_ = Napi::Persistent(info.This().As<Napi::Object>());
    StartPolling();
  }

  ~TerminalReader() override { ClosePoll(); }

 private:
  static void OnEvent(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<TerminalReader*>(handle->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // A callback may close this reader, and drop the last reference to it:
    // the local handle keeps it alive until this event is handled.
    Napi::Object keep_alive = self->Value();
    (void)keep_alive;
    if (status < 0) {
      self->End(-status);
      return;
    }
    self->ReadAvailable();
  }

  void ReadAvailable() {
    std::vector<char> data;
    int end = -1;  // -1: more may come; else the errno to end with (0: a normal end)
    char buffer[65536];
    while (data.size() < kMostPerEvent) {
      ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n > 0) {
        data.insert(data.end(), buffer, buffer + n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // EIO: the last process that held the terminal has closed it, and
      // everything it wrote has been read. A hung-up master reads 0.
      end = (n == 0 || errno == EIO) ? 0 : errno;
      break;
    }
    if (!data.empty() && !on_data_.IsEmpty()) {
      Call(on_data_, {Napi::Buffer<char>::Copy(Env(), data.data(), data.size())});
    }
    if (end >= 0) End(end);
  }

  void End(int err) {
    if (on_end_.IsEmpty()) return;  // closed from the data callback
    ClosePoll();
    Napi::FunctionReference on_end = std::move(on_end_);
    on_data_.Reset();
    self_.Reset();
    Call(on_end, {Napi::Number::New(Env(), err)});
  }

  static void Call(const Napi::FunctionReference& callback, const std::initializer_list<napi_value>& args) {
    call_from_event_loop(callback, args);
  }

  void StartPolling() {
    if (poll_) uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, &TerminalReader::OnEvent);
  }

  void ClosePoll() {
    if (!poll_) return;
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (poll_) uv_poll_stop(poll_);
    return info.Env().Undefined();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    StartPolling();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    ClosePoll();
    on_data_.Reset();
    on_end_.Reset();
    self_.Reset();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_data_;
  Napi::FunctionReference on_end_;
  Napi::ObjectReference self_;
};

Napi::FunctionReference TerminalReader::constructor;

Napi::Value ReadTerminal(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args;
  for (size_t i = 0; i < info.Length(); i++) args.push_back(info[i]);
  return TerminalReader::constructor.New(args);
}

// A window dimension: a struct winsize field (unsigned short), and never 0.
bool is_dimension(const Napi::Value& value) {
  if (!value.IsNumber()) return false;
  double number = value.As<Napi::Number>().DoubleValue();
  return number >= 1 && number <= 65535 && number == static_cast<double>(static_cast<unsigned>(number));
}

Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !is_dimension(info[1]) || !is_dimension(info[2])) {
    throw Napi::TypeError::New(env, "setWindowSize(fd, columns 1-65535, rows 1-65535)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct winsize size = {};
  size.ws_col = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  size.ws_row = static_cast<unsigned short>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(fd, TIOCSWINSZ, &size) < 0) {
    int err = errno;
    Napi::Error error = Napi::Error::New(env, std::string("set the terminal's size: ") + strerror(err));
    error.Set("errno", Napi::Number::New(env, err));
    throw error;
  }
  return env.Undefined();
}

}  // namespace

void InitTerminal(Napi::Env env, Napi::Object exports) {
  Napi::Function reader = TerminalReader::Define(env);
  TerminalReader::constructor = Napi::Persistent(reader);
  TerminalReader::constructor.SuppressDestruct();
  exports.Set("readTerminal", Napi::Function::New(env, ReadTerminal, "readTerminal"));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize, "setWindowSize"));
}

}  // namespace tsc
