#include "addon/exit_watcher.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "addon/fd_watcher.h"
#include "addon/files_at.h"
#include "monitor/run_record.h"

namespace tsc {

namespace {

// What is done at the exit, before JavaScript hears of it (the main process of a container
// that Node reaps): the usage files read while its cgroup still exists, and its run.json
// written. Here, in one call, it costs a fraction of the same steps in JavaScript, on the way
// from the exit to wait().
struct ExitBookkeeping {
  std::vector<std::string> read_files;
  // The state directory, and its identity ("dev:ino") when the record was made: a directory
  // of the same name that is another one (the container deleted, another made) is not written.
  std::string record_dir;
  std::string record_identity;
  RunRecord record;
  bool records = false;
};

// The exit's run record written into the very directory the container was recorded in.
bool record_exit(const ExitBookkeeping& bookkeeping, const siginfo_t& info) {
  int dir_fd = open(bookkeeping.record_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir_fd < 0) return false;
  struct stat st;
  bool same = fstat(dir_fd, &st) == 0 &&
              std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) == bookkeeping.record_identity;
  RunRecord record = bookkeeping.record;
  record.finished_at_ms = now_ms();
  record.exited = true;
  if (info.si_code == CLD_EXITED) {
    record.exit_code = info.si_status;
  } else {
    record.signal = info.si_status;
  }
  bool written = same && write_run_record_at(dir_fd, record);
  close(dir_fd);
  return written;
}

ExitBookkeeping bookkeeping_from(const Napi::Object& given) {
  ExitBookkeeping bookkeeping;
  Napi::Value files = given.Get("readFiles");
  if (files.IsArray()) {
    Napi::Array list = files.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) bookkeeping.read_files.push_back(list.Get(i).As<Napi::String>().Utf8Value());
  }
  Napi::Value record = given.Get("runRecord");
  if (record.IsObject()) {
    Napi::Object r = record.As<Napi::Object>();
    bookkeeping.records = true;
    bookkeeping.record_dir = r.Get("dir").As<Napi::String>().Utf8Value();
    bookkeeping.record_identity = r.Get("identity").As<Napi::String>().Utf8Value();
    bookkeeping.record.pid = r.Get("pid").As<Napi::Number>().Int32Value();
    bookkeeping.record.start_time = r.Get("startTime").As<Napi::String>().Utf8Value();
    bookkeeping.record.started_at_ms = r.Get("startedAt").As<Napi::Number>().Int64Value();
  }
  return bookkeeping;
}

class ExitWatcher : public FdWatcher<ExitWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ExitWatcher",
                       {InstanceMethod("close", &ExitWatcher::Close), InstanceMethod("ref", &ExitWatcher::Ref),
                        InstanceMethod("unref", &ExitWatcher::Unref)});
  }

  explicit ExitWatcher(const Napi::CallbackInfo& info) : FdWatcher<ExitWatcher>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "watchExit(pidfd, callback)").ThrowAsJavaScriptException();
      return;
    }
    pidfd_ = info[0].As<Napi::Number>().Int32Value();
    // A process that is not ours (a detached container's, or another Node's) is
    // only watched: its parent reaps it and records how it ended.
    reap_ = info.Length() < 3 || !info[2].IsBoolean() || info[2].As<Napi::Boolean>().Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    if (reap_ && info.Length() > 3 && info[3].IsObject()) bookkeeping_ = bookkeeping_from(info[3].As<Napi::Object>());
    StartWatching(info, pidfd_, UV_READABLE, "watch pidfd");
  }

 private:
  void OnEvent(int status, int events) override {
    siginfo_t info = {};
    struct rusage usage = {};
    if (!reap_) {
      Deliver(-1, info, usage);
      return;
    }
    long rc;
    // The raw system call also returns the process's resource usage.
    do {
      rc = syscall(SYS_waitid, P_PIDFD, pidfd_, &info, WEXITED | WNOHANG, &usage);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) return;  // not exited yet
    Deliver(static_cast<int>(rc), info, usage);
  }

  void Deliver(int rc, const siginfo_t& info, const struct rusage& usage) {
    Napi::Env env = Env();
    Napi::Value code = env.Null();
    Napi::Value signal = env.Null();
    if (rc == 0 && info.si_code == CLD_EXITED) {
      code = Napi::Number::New(env, info.si_status);
    } else if (rc == 0) {
      signal = Napi::Number::New(env, info.si_status);
    }
    Napi::Object resources = Napi::Object::New(env);
    resources.Set("userMicros", Napi::Number::New(env, static_cast<double>(usage.ru_utime.tv_sec) * 1e6 + usage.ru_utime.tv_usec));
    resources.Set("systemMicros", Napi::Number::New(env, static_cast<double>(usage.ru_stime.tv_sec) * 1e6 + usage.ru_stime.tv_usec));
    resources.Set("maxRssKib", Napi::Number::New(env, static_cast<double>(usage.ru_maxrss)));
    if (rc == 0 && bookkeeping_) {
      // Reaped: read before anything else is done, while the cgroup is surely there.
      Napi::Array texts = Napi::Array::New(env, bookkeeping_->read_files.size());
      for (uint32_t i = 0; i < bookkeeping_->read_files.size(); i++) {
        std::string text;
        bool read = read_whole_file_at(AT_FDCWD, bookkeeping_->read_files[i], &text) == 0;
        texts.Set(i, read ? Napi::String::New(env, text) : env.Null());
      }
      resources.Set("files", texts);
      if (bookkeeping_->records) resources.Set("recorded", Napi::Boolean::New(env, record_exit(*bookkeeping_, info)));
    }
    FinishWith(callback_, {code, signal, resources});
  }

  void DropCallbacks() override { callback_.Reset(); }

  int pidfd_ = -1;
  bool reap_ = true;
  std::optional<ExitBookkeeping> bookkeeping_;
  Napi::FunctionReference callback_;
};

}  // namespace

void InitExitWatcher(Napi::Env env, Napi::Object exports) { ExitWatcher::Export(env, exports, "watchExit"); }

}  // namespace tsc
