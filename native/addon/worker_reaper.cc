#include "addon/worker_reaper.h"

#include <sys/wait.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace tsc {

namespace {

struct Reaper {
  std::mutex lock;
  std::condition_variable queued;
  std::deque<pid_t> pids;
  bool started = false;
};

Reaper& reaper() {
  static Reaper* instance = new Reaper();  // never destroyed: its thread may run at exit
  return *instance;
}

void reap_queued(Reaper* r) {
  for (;;) {
    pid_t pid;
    {
      std::unique_lock<std::mutex> guard(r->lock);
      r->queued.wait(guard, [r] { return !r->pids.empty(); });
      pid = r->pids.front();
      r->pids.pop_front();
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace

void reap_worker_later(pid_t pid) {
  Reaper& r = reaper();
  {
    std::lock_guard<std::mutex> guard(r.lock);
    if (!r.started) {
      // Detached: it blocks in waitpid or on the queue for the life of the process.
      std::thread(reap_queued, &r).detach();
      r.started = true;
    }
    r.pids.push_back(pid);
  }
  r.queued.notify_one();
}

}  // namespace tsc
