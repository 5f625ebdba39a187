#include "addon/retained_request.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <mutex>

namespace tsc {

namespace {

// By Node's end of the control channel, which stays open (and so unique) until
// await_helper has taken its request back.
struct RetainedRequests {
  std::mutex lock;
  std::map<int, RetainedRequest> by_control_fd;
};

RetainedRequests& retained() {
  static RetainedRequests* instance = new RetainedRequests();  // never destroyed: a pool thread may use it at exit
  return *instance;
}

}  // namespace

void retain_request(int control_fd, const std::string& helper_path, const std::vector<int>& fds, bool has_join_pidfd,
                    int owner_fd_count) {
  RetainedRequest request;
  request.helper_path = helper_path;
  request.has_join_pidfd = has_join_pidfd;
  request.owner_fd_count = owner_fd_count;
  for (int fd : fds) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
      close_request_fds(request);
      return;
    }
    request.fds.push_back(copy);
  }
  RetainedRequests& all = retained();
  std::lock_guard<std::mutex> guard(all.lock);
  all.by_control_fd[control_fd] = std::move(request);
}

std::optional<RetainedRequest> take_retained_request(int control_fd) {
  RetainedRequests& all = retained();
  std::lock_guard<std::mutex> guard(all.lock);
  auto found = all.by_control_fd.find(control_fd);
  if (found == all.by_control_fd.end()) return std::nullopt;
  RetainedRequest request = std::move(found->second);
  all.by_control_fd.erase(found);
  return request;
}

void close_request_fds(RetainedRequest& request) {
  for (int fd : request.fds) close(fd);
  request.fds.clear();
}

}  // namespace tsc
