#include "addon/background_close.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <vector>

namespace tsc {

namespace {

// The lowest priority a thread may take without privilege: it still runs on a busy host,
// rarely, so that what it holds is let go in the end.
constexpr int kLowestNice = 19;

// The fds to close travel to the thread through a pipe, as ints: a write of a few is atomic,
// and the thread sleeps in read() while there is nothing to do.
int queue_write_end = -1;
std::once_flag started;

void* close_what_comes(void* arg) {
  int read_end = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  // Linux gives each thread its own nice value (setpriority on a thread id).
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kLowestNice);
  for (;;) {
    int fd;
    ssize_t n = read(read_end, &fd, sizeof fd);
    if (n == static_cast<ssize_t>(sizeof fd)) {
      close(fd);
    } else if (n < 0 && errno != EINTR) {
      return nullptr;
    }
  }
}

// Shared by every Node environment (worker threads) of the process and never joined: at
// exit the kernel closes what is left. False when no thread could be started.
bool start_closer() {
  std::call_once(started, [] {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) < 0) return;
    pthread_t thread;
    if (pthread_create(&thread, nullptr, close_what_comes, reinterpret_cast<void*>(static_cast<intptr_t>(ends[0]))) != 0) {
      close(ends[0]);
      close(ends[1]);
      return;
    }
    pthread_detach(thread);
    // A full pipe (a thread starved that long) is no reason to block Node: EAGAIN, closed here.
    fcntl(ends[1], F_SETFL, O_NONBLOCK);
    queue_write_end = ends[1];
  });
  return queue_write_end >= 0;
}

Napi::Value CloseInBackground(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "closeInBackground(fds: number[])");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsNumber() || item.As<Napi::Number>().Int32Value() < 0) {
      throw Napi::TypeError::New(env, "closeInBackground: each fd must be a non-negative integer");
    }
    fds.push_back(item.As<Napi::Number>().Int32Value());
  }
  bool queued = start_closer();
  for (int fd : fds) {
    // Without the thread (or with its pipe full), closed here: never left open.
    ssize_t n = queued ? write(queue_write_end, &fd, sizeof fd) : -1;
    if (n != static_cast<ssize_t>(sizeof fd)) close(fd);
  }
  return env.Undefined();
}

}  // namespace

void InitBackgroundClose(Napi::Env env, Napi::Object exports) {
  exports.Set("closeInBackground", Napi::Function::New(env, CloseInBackground, "closeInBackground"));
}

}  // namespace tsc
