#include "addon/worker_reaper.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <deque>

namespace tsc {

namespace {

// pthread's own mutex and condition, not std::condition_variable: its wait() would need a newer
// libstdc++ (GLIBCXX_3.4.30) than the prebuilt addon may ask for (README: Set up).
struct Reaper {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t queued = PTHREAD_COND_INITIALIZER;
  std::deque<pid_t> pids;
  bool started = false;
};

Reaper& reaper() {
  static Reaper* instance = new Reaper();  // never destroyed: its thread may run at exit
  return *instance;
}

void* reap_queued(void* arg) {
  Reaper* r = static_cast<Reaper*>(arg);
  for (;;) {
    pthread_mutex_lock(&r->lock);
    while (r->pids.empty()) pthread_cond_wait(&r->queued, &r->lock);
    pid_t pid = r->pids.front();
    r->pids.pop_front();
    pthread_mutex_unlock(&r->lock);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  return nullptr;
}

}  // namespace

void reap_worker_later(pid_t pid) {
  Reaper& r = reaper();
  pthread_mutex_lock(&r.lock);
  if (!r.started) {
    // Detached: it blocks in waitpid or on the queue for the life of the process. Every
    // signal blocked in it, as in libuv's threads: Node's handlers run on Node's thread.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    r.started = pthread_create(&thread, nullptr, reap_queued, &r) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (r.started) pthread_detach(thread);
  }
  if (!r.started) {
    // No thread (out of threads): reaped here, as before this existed.
    pthread_mutex_unlock(&r.lock);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return;
  }
  r.pids.push_back(pid);
  pthread_cond_signal(&r.queued);
  pthread_mutex_unlock(&r.lock);
}

}  // namespace tsc
