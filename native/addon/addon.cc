// The N-API surface of ts-container: starting the helper, receiving its
// report, pidfd signals and exit watching, and the pipes for stdio. It holds
// no container logic: that is the helper's (and the plain C++ it shares).
#include <fcntl.h>
#include <napi.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "addon/cgroup_maker.h"
#include "addon/exit_watcher.h"
#include "addon/helper_process.h"
#include "addon/helper_server.h"
#include "addon/layer_diff.h"
#include "addon/layer_inflate.h"
#include "addon/layer_unpack.h"
#include "addon/seccomp_notify.h"
#include "addon/stream_hash.h"
#include "addon/errno_error.h"
#include "addon/late_gate.h"
#include "addon/remove_tree.h"
#include "addon/background_close.h"
#include "addon/remove_directories.h"
#include "addon/files_at.h"
#include "addon/state_directory.h"
#include "addon/directory_spread.h"
#include "addon/namespace_type.h"
#include "addon/early_writeback.h"
#include "addon/terminal_reader.h"
#include "common/cni_exec.h"
#include "common/setup_error.h"
#include "common/syscalls.h"

namespace tsc {

namespace {

// A CNI command for a container's attachment record, on the libuv pool: the plugins
// run (and may take a while, iptables locks included) while Node goes on.
class CniRunWorker : public Napi::AsyncWorker {
 public:
  CniRunWorker(Napi::Env env, std::string record, std::string command, std::string netns)
      : Napi::AsyncWorker(env, "ts-container:cni"),
        record_(std::move(record)),
        command_(std::move(command)),
        netns_(std::move(netns)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { outcome_ = cni_run(record_, command_, netns_); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("ok", Napi::Boolean::New(env, outcome_.ok));
    result.Set("result", Napi::String::New(env, outcome_.result));
    result.Set("plugin", Napi::String::New(env, outcome_.plugin));
    result.Set("exitCode", Napi::Number::New(env, outcome_.exit_code));
    result.Set("output", Napi::String::New(env, outcome_.output));
    result.Set("diagnostics", Napi::String::New(env, outcome_.diagnostics));
    deferred_.Resolve(result);
  }

 private:
  std::string record_, command_, netns_;
  CniOutcome outcome_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value CniRun(const Napi::CallbackInfo& info) {
  auto* worker = new CniRunWorker(info.Env(), info[0].As<Napi::String>().Utf8Value(),
                                  info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::String>().Utf8Value());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

class AwaitHelperWorker : public Napi::AsyncWorker {
 public:
  AwaitHelperWorker(Napi::Env env, LaunchedHelper helper, Napi::Function on_listener, bool keep_channel)
      : Napi::AsyncWorker(env, "ts-container:await-helper"),
        helper_(std::move(helper)),
        keep_channel_(keep_channel),
        deferred_(Napi::Promise::Deferred::New(env)) {
    if (!on_listener.IsEmpty()) {
      on_listener_ = Napi::ThreadSafeFunction::New(env, on_listener, "ts-container:seccomp-listener", 0, 1);
      has_listener_callback_ = true;
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    outcome_ = await_helper(std::move(helper_), [this](int fd) {
      // Handed to JavaScript now; without a callback nobody could answer, so close it.
      if (!has_listener_callback_ ||
          on_listener_.BlockingCall([fd](Napi::Env env, Napi::Function js) { js.Call({Napi::Number::New(env, fd)}); }) != napi_ok) {
        close(fd);
      }
    }, keep_channel_);
    if (has_listener_callback_) on_listener_.Release();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("ok", Napi::Boolean::New(env, outcome_.report.ok));
    result.Set("pid", Napi::Number::New(env, outcome_.report.pid));
    result.Set("pidfd", Napi::Number::New(env, outcome_.pidfd));
    result.Set("terminalFd", Napi::Number::New(env, outcome_.terminal_fd));
    result.Set("channelFd", Napi::Number::New(env, outcome_.channel_fd));
    Napi::Array held = Napi::Array::New(env, outcome_.held_namespace_fds.size());
    for (size_t i = 0; i < outcome_.held_namespace_fds.size(); i++) held.Set(i, Napi::Number::New(env, outcome_.held_namespace_fds[i]));
    result.Set("heldNamespaceFds", held);
    result.Set("errno", Napi::Number::New(env, outcome_.report.err));
    result.Set("stepId", Napi::Number::New(env, static_cast<int>(outcome_.report.step_id)));
    result.Set("step", Napi::String::New(env, outcome_.report.step));
    if (!outcome_.phase_marks.empty()) result.Set("phaseMarks", Napi::String::New(env, outcome_.phase_marks));
    deferred_.Resolve(result);
  }

 private:
  LaunchedHelper helper_;
  bool keep_channel_;
  HelperOutcome outcome_;
  Napi::Promise::Deferred deferred_;
  Napi::ThreadSafeFunction on_listener_;
  bool has_listener_callback_ = false;
};

// The three stdio fds of an array argument.
void read_stdio(const Napi::Value& value, int fds[3]) {
  auto stdio = value.As<Napi::Array>();
  for (uint32_t i = 0; i < 3; i++) fds[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
}

// The owner fds of an optional array argument.
std::vector<int> read_fd_list(const Napi::CallbackInfo& info, size_t index) {
  std::vector<int> fds;
  if (info.Length() > index && info[index].IsArray()) {
    auto list = info[index].As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) fds.push_back(list.Get(i).As<Napi::Number>().Int32Value());
  }
  return fds;
}

// Queues the wait for the helper's report on libuv's pool.
Napi::Promise await_report(Napi::Env env, LaunchedHelper helper, Napi::Function on_listener, bool keep_channel) {
  auto* worker = new AwaitHelperWorker(env, std::move(helper), on_listener, keep_channel);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// The optional arguments of a report's wait: the seccomp listener callback and keepChannel.
Napi::Function listener_argument(const Napi::CallbackInfo& info, size_t index) {
  return info.Length() > index && info[index].IsFunction() ? info[index].As<Napi::Function>() : Napi::Function();
}

bool flag_argument(const Napi::CallbackInfo& info, size_t index) {
  return info.Length() > index && info[index].IsBoolean() && info[index].As<Napi::Boolean>().Value();
}

// startHelper(helperPath, plan: Buffer, stdio: [fd, fd, fd], joinPidfd, onSeccompListener?, ownerFds?, keepChannel?) →
// Promise<{ ok, pid, pidfd, errno, step }>. The helper is started before this
// returns, so the caller may close its copies of the stdio fds at once.
Napi::Value StartHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsBuffer() || !info[2].IsArray() || !info[3].IsNumber()) {
    throw Napi::TypeError::New(env, "startHelper(helperPath, plan, stdio, joinPidfd)");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  auto plan = info[1].As<Napi::Buffer<char>>();
  int fds[3];
  read_stdio(info[2], fds);
  int join_pidfd = info[3].As<Napi::Number>().Int32Value();
  LaunchedHelper helper;
  try {
    helper = launch_helper(path, std::string(plan.Data(), plan.Length()), fds, join_pidfd, read_fd_list(info, 5));
  } catch (const SetupError& e) {
    throw errno_error(env, e.err, e.step);
  }
  return await_report(env, std::move(helper), listener_argument(info, 4), flag_argument(info, 6));
}

// A worker asked for before its plan is made (helper_process.h: reserve_helper), as
// { fd, serverPid }: the channel's Node end and the server asked.
Napi::Object reservation_object(Napi::Env env, const LaunchedHelper& helper) {
  Napi::Object reservation = Napi::Object::New(env);
  reservation.Set("fd", Napi::Number::New(env, helper.control_fd));
  reservation.Set("serverPid", Napi::Number::New(env, helper.server_pid));
  return reservation;
}

LaunchedHelper reserved_helper(const Napi::Value& value) {
  Napi::Object reservation = value.As<Napi::Object>();
  LaunchedHelper helper;
  helper.control_fd = reservation.Get("fd").As<Napi::Number>().Int32Value();
  helper.server_pid = reservation.Get("serverPid").As<Napi::Number>().Int32Value();
  return helper;
}

// reserveHelper(helperPath, stdio: [fd, fd, fd], ownerFds?) → { fd, serverPid }: a container's
// worker, asked for now; it waits for planHelper's plan. The caller may close its stdio copies.
Napi::Value ReserveHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray()) throw Napi::TypeError::New(env, "reserveHelper(helperPath, stdio)");
  int fds[3];
  read_stdio(info[1], fds);
  try {
    return reservation_object(env, reserve_helper(info[0].As<Napi::String>().Utf8Value(), fds, -1, read_fd_list(info, 2)));
  } catch (const SetupError& e) {
    throw errno_error(env, e.err, e.step);
  }
}

// planHelper(reservation, plan: Buffer, onSeccompListener?, keepChannel?) → Promise<report>, as startHelper's.
Napi::Value PlanHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "planHelper(reservation, plan)");
  LaunchedHelper helper = reserved_helper(info[0]);
  auto plan = info[1].As<Napi::Buffer<char>>();
  send_plan(&helper, std::string(plan.Data(), plan.Length()));
  return await_report(env, std::move(helper), listener_argument(info, 2), flag_argument(info, 3));
}

// releaseHelper(reservation) → Promise, settled once the worker is gone: it gets no plan,
// sees end of file, exits and is reaped. (Its request may still be on its way to the server:
// a caller that rejects only after this leaves no process behind.)
Napi::Value ReleaseHelper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "releaseHelper(reservation)");
  LaunchedHelper helper = reserved_helper(info[0]);
  shutdown(helper.control_fd, SHUT_WR);
  // Its outcome (the worker exited unreported) is nobody's: the wait only reaps it.
  return await_report(env, helper, Napi::Function(), false);
}

// helperServerPid() → the pid of this process's setup server, or -1 before the
// first container or exec (tests look at it; not part of the library's API).
Napi::Value HelperServerPid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), helper_server_pid());
}

// sendSignal(pidfd, signo) → true, or false when the process is gone.
Napi::Value SendSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (sys_pidfd_send_signal(pidfd, sig, 0) == 0) return Napi::Boolean::New(env, true);
  if (errno == ESRCH) return Napi::Boolean::New(env, false);
  throw errno_error(env, errno, "pidfd_send_signal");
}

// createPipe() → [readFd, writeFd], both close-on-exec.
Napi::Value CreatePipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw errno_error(env, errno, "pipe2");
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

// tryLock(fd) → true when this process now holds an exclusive flock on fd,
// false when another process holds one. Marks what a live process owns.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  throw errno_error(env, errno, "flock");
}

// tryLockByte(fd, index) → true when fd's open file description now holds a
// write lock on byte `index` of the file (an OFD lock: it conflicts with every
// other open of the file, this process's included, goes wherever the fd is
// passed, and is released when the last fd of that description closes); false
// when another description holds it. One file then marks many owned slots.
Napi::Value TryLockByte(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(info[1].As<Napi::Number>().Int64Value());
  lock.l_len = 1;
  if (fcntl(fd, F_OFD_SETLK, &lock) == 0) return Napi::Boolean::New(env, true);
  if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
  throw errno_error(env, errno, "fcntl F_OFD_SETLK");
}

// pidfdOpen(pid) → a pidfd (close-on-exec), or -1 when no such process exists.
// A pid read from a state file is checked against its start time afterwards:
// the pidfd then names that very process, even if the pid is reused later.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = sys_pidfd_open(info[0].As<Napi::Number>().Int32Value(), 0);
  if (fd >= 0) return Napi::Number::New(env, fd);
  if (errno == ESRCH) return Napi::Number::New(env, -1);
  throw errno_error(env, errno, "pidfd_open");
}

// makeFifo(path, mode): mkfifo, which Node's fs does not offer.
Napi::Value MakeFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  if (mkfifo(path.c_str(), mode) < 0) throw errno_error(env, errno, "mkfifo " + path);
  // mkfifo applies the umask; the container's user must be able to open it for writing.
  if (chmod(path.c_str(), mode) < 0) throw errno_error(env, errno, "chmod " + path);
  return env.Undefined();
}

// bindMount(source, target): a bind mount in the caller's mount namespace (a network
// namespace pinned at a file, lib/networks/netns-pin.ts). unmount(target): lazily; false
// when nothing was mounted there.
Napi::Value BindMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>().Utf8Value();
  std::string target = info[1].As<Napi::String>().Utf8Value();
  if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) throw errno_error(env, errno, "mount --bind " + source + " " + target);
  return env.Undefined();
}

Napi::Value Unmount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>().Utf8Value();
  if (umount2(target.c_str(), MNT_DETACH) == 0) return Napi::Boolean::New(env, true);
  if (errno == EINVAL || errno == ENOENT) return Napi::Boolean::New(env, false);
  throw errno_error(env, errno, "umount " + target);
}

// lock(fd) blocks until this process holds an exclusive flock on fd.
Napi::Value Lock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  while (flock(fd, LOCK_EX) < 0) {
    if (errno != EINTR) throw errno_error(env, errno, "flock");
  }
  return env.Undefined();
}

// setXattr(fdOrPath, name, value): marks a file (a cgroup directory) with an
// extended attribute; Node's fs has no xattr calls.
Napi::Value SetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  std::string value = info[2].As<Napi::String>().Utf8Value();
  int rc;
  if (info[0].IsNumber()) {
    rc = fsetxattr(info[0].As<Napi::Number>().Int32Value(), name.c_str(), value.data(), value.size(), 0);
  } else {
    rc = lsetxattr(info[0].As<Napi::String>().Utf8Value().c_str(), name.c_str(), value.data(), value.size(), 0);
  }
  if (rc < 0) throw errno_error(env, errno, "setxattr " + name);
  return env.Undefined();
}

// getXattr(fdOrPath, name) → the attribute's value, or null when the file
// has no such attribute (or is gone).
Napi::Value GetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  char value[256];
  ssize_t n;
  if (info[0].IsNumber()) {
    n = fgetxattr(info[0].As<Napi::Number>().Int32Value(), name.c_str(), value, sizeof value);
  } else {
    n = lgetxattr(info[0].As<Napi::String>().Utf8Value().c_str(), name.c_str(), value, sizeof value);
  }
  if (n >= 0) return Napi::String::New(env, value, static_cast<size_t>(n));
  if (errno == ENODATA || errno == ENOENT || errno == ENOTSUP || errno == ERANGE) return env.Null();
  throw errno_error(env, errno, "getxattr " + name);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("cniRun", Napi::Function::New(env, CniRun, "cniRun"));
  exports.Set("startHelper", Napi::Function::New(env, StartHelper, "startHelper"));
  exports.Set("reserveHelper", Napi::Function::New(env, ReserveHelper, "reserveHelper"));
  exports.Set("planHelper", Napi::Function::New(env, PlanHelper, "planHelper"));
  exports.Set("releaseHelper", Napi::Function::New(env, ReleaseHelper, "releaseHelper"));
  exports.Set("helperServerPid", Napi::Function::New(env, HelperServerPid, "helperServerPid"));
  exports.Set("sendSignal", Napi::Function::New(env, SendSignal, "sendSignal"));
  exports.Set("createPipe", Napi::Function::New(env, CreatePipe, "createPipe"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("tryLock", Napi::Function::New(env, TryLock, "tryLock"));
  exports.Set("lock", Napi::Function::New(env, Lock, "lock"));
  exports.Set("tryLockByte", Napi::Function::New(env, TryLockByte, "tryLockByte"));
  exports.Set("bindMount", Napi::Function::New(env, BindMount, "bindMount"));
  exports.Set("unmount", Napi::Function::New(env, Unmount, "unmount"));
  exports.Set("makeFifo", Napi::Function::New(env, MakeFifo, "makeFifo"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("setXattr", Napi::Function::New(env, SetXattr, "setXattr"));
  exports.Set("getXattr", Napi::Function::New(env, GetXattr, "getXattr"));
  InitExitWatcher(env, exports);
  InitSeccompNotify(env, exports);
  InitTerminal(env, exports);
  InitLayerUnpack(env, exports);
  InitLayerDiff(env, exports);
  InitStreamHash(env, exports);
  InitLayerInflate(env, exports);
  InitLateGate(env, exports);
  InitRemoveTree(env, exports);
  InitBackgroundClose(env, exports);
  InitRemoveDirectories(env, exports);
  InitCgroupMaker(env, exports);
  InitFilesAt(env, exports);
  InitStateDirectory(env, exports);
  InitDirectorySpread(env, exports);
  InitNamespaceType(env, exports);
  InitEarlyWriteback(env, exports);
  return exports;
}

}  // namespace tsc

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tsc::Init(env, exports); }

NODE_API_MODULE(ts_container, InitModule)
