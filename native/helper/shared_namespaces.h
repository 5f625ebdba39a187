// Joining another container's namespaces instead of making them: docker's
// --network container:ID, and the members of a pod, which share the net, uts
// and ipc namespaces its pause process holds.
#pragma once

#include <vector>

#include "common/plan.h"

namespace tsc {

// While it lives, the helper stands in the namespaces the plan shares (none:
// it does nothing), so that the process it clones is born in them; the helper
// is single-threaded, so setns applies to all of it. The target is joined
// through its pidfd, taken first and then checked against its recorded start
// time: a container that stopped, or a pid reused since, is refused (ESRCH).
// On leaving, the helper goes back to its own namespaces: a detached
// container's monitor lives on in the host's.
class SharedNamespaces {
 public:
  explicit SharedNamespaces(Plan& plan);
  ~SharedNamespaces();
  SharedNamespaces(const SharedNamespaces&) = delete;
  SharedNamespaces& operator=(const SharedNamespaces&) = delete;

 private:
  void join();
  void leave();

  struct Own {
    int fd;
    int flag;
  };
  std::vector<Own> own_;
  Plan& plan_;
};

}  // namespace tsc
