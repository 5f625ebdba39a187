#include "addon/late_gate.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "addon/errno_error.h"
#include "common/control_channel.h"
#include "common/fd_passing.h"

namespace tsc {

namespace {

Napi::Value LateGatePair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) throw errno_error(env, errno, "create the late gate");
  int passcred = pass_sender_pids(fds[0]);
  if (passcred < 0) {
    close(fds[0]);
    close(fds[1]);
    throw errno_error(env, -passcred, "create the late gate");
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

Napi::Value LateGateSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> spec = info[1].As<Napi::Buffer<char>>();
  Napi::Array stdio = info[2].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < stdio.Length() && i < 3; i++) fds.push_back(stdio.Get(i).As<Napi::Number>().Int32Value());
  int sent = send_message_with_fds(fd, std::string(spec.Data(), spec.Length()), fds);
  if (sent < 0) throw errno_error(env, -sent, "send the late spec");
  return env.Undefined();
}

// Reads the member's messages until its program runs (end of file) or it says what failed.
class LateGateWorker : public Napi::AsyncWorker {
 public:
  LateGateWorker(Napi::Env env, int fd, pid_t pid)
      : Napi::AsyncWorker(env, "ts-container:late-gate"), deferred_(Napi::Promise::Deferred::New(env)), fd_(fd), pid_(pid) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    for (;;) {
      std::string message;
      int received = -1;
      pid_t sender = -1;
      long n = receive_message_from(fd_, &message, &received, &sender, 0);
      if (n == 0) return;  // close-on-exec: the program runs
      if (n == -EMSGSIZE) continue;
      if (n < 0) {
        failed_ = true;
        err_ = static_cast<int>(-n);
        step_ = "await the program's exec";
        return;
      }
      // An fd (the terminal's master) is taken only from the member itself. A failure (text)
      // may come from the program's process under a tiny init too (init: true forks it before
      // its exec): the gate's other end is held only by the two, never past the exec.
      if (received >= 0 && sender != pid_) {
        close(received);
        continue;
      }
      if (message == "terminal" && received >= 0) {
        if (terminal_fd_ >= 0) close(terminal_fd_);
        terminal_fd_ = received;
        continue;
      }
      if (received >= 0) close(received);
      // "<errno> <step id> <step>", as write_failure() spells it.
      char* end = nullptr;
      err_ = static_cast<int>(strtol(message.c_str(), &end, 10));
      if (end && *end == ' ') step_id_ = static_cast<int>(strtol(end + 1, &end, 10));
      step_ = (end && *end == ' ') ? std::string(end + 1) : std::string("setup");
      failed_ = true;
      return;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("ok", Napi::Boolean::New(env, !failed_));
    result.Set("errno", Napi::Number::New(env, err_));
    result.Set("stepId", Napi::Number::New(env, step_id_));
    result.Set("step", Napi::String::New(env, step_));
    // A failed program has no terminal to read.
    if (failed_ && terminal_fd_ >= 0) {
      close(terminal_fd_);
      terminal_fd_ = -1;
    }
    result.Set("terminalFd", Napi::Number::New(env, terminal_fd_));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  pid_t pid_;
  bool failed_ = false;
  int err_ = 0;
  int step_id_ = 0;
  std::string step_;
  int terminal_fd_ = -1;
};

Napi::Value LateGateAwait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  pid_t pid = static_cast<pid_t>(info[1].As<Napi::Number>().Int32Value());
  auto* worker = new LateGateWorker(env, fd, pid);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitLateGate(Napi::Env env, Napi::Object exports) {
  exports.Set("lateGatePair", Napi::Function::New(env, LateGatePair, "lateGatePair"));
  exports.Set("lateGateSend", Napi::Function::New(env, LateGateSend, "lateGateSend"));
  exports.Set("lateGateAwait", Napi::Function::New(env, LateGateAwait, "lateGateAwait"));
}

}  // namespace tsc
