#include "addon/terminal_reader.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "addon/fd_watcher.h"

namespace tsc {

namespace {

// What one readable event hands to JavaScript at most: the loop gets its turn
// back even while a program writes without pause.
constexpr size_t kMostPerEvent = 256 * 1024;

class TerminalReader : public FdWatcher<TerminalReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TerminalReader",
                       {InstanceMethod("pause", &TerminalReader::Pause), InstanceMethod("resume", &TerminalReader::Resume),
                        InstanceMethod("close", &TerminalReader::Close)});
  }

  explicit TerminalReader(const Napi::CallbackInfo& info) : FdWatcher<TerminalReader>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "readTerminal(fd, onData, onEnd)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    on_data_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_end_ = Napi::Persistent(info[2].As<Napi::Function>());
    StartWatching(info, fd_, UV_READABLE | UV_DISCONNECT, "watch the terminal");
  }

 private:
  void OnEvent(int status, int events) override {
    if (status < 0) {
      End(-status);
      return;
    }
    ReadAvailable();
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
      CallFromEventLoop(on_data_, {Napi::Buffer<char>::Copy(Env(), data.data(), data.size())});
    }
    if (end >= 0) End(end);
  }

  void End(int err) {
    if (on_end_.IsEmpty()) return;  // closed from the data callback
    FinishWith(on_end_, {Napi::Number::New(Env(), err)});
  }

  void DropCallbacks() override {
    on_data_.Reset();
    on_end_.Reset();
  }

  int fd_ = -1;
  Napi::FunctionReference on_data_;
  Napi::FunctionReference on_end_;
};

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
  TerminalReader::Export(env, exports, "readTerminal");
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize, "setWindowSize"));
}

}  // namespace tsc
