#include "helper/credentials.h"

#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <vector>

#include "common/setup_error.h"
#include "helper/capabilities.h"

namespace tsc {

void become_container_user(const Plan& plan) {
  restrict_bounding_set(plan.capabilities);
  std::vector<gid_t> groups(plan.groups.begin(), plan.groups.end());
  check(setgroups(groups.size(), groups.data()), "setgroups");
  check(setresgid(plan.gid, plan.gid, plan.gid), "setgid " + std::to_string(plan.gid));
  // Without PR_SET_KEEPCAPS a switch to a non-zero uid empties the permitted
  // and effective sets, as a non-root user's should be.
  check(prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0), "clear keepcaps");
  check(setresuid(plan.uid, plan.uid, plan.uid), "setuid " + std::to_string(plan.uid));
  set_process_capabilities(plan.uid == 0 ? plan.capabilities : std::vector<std::string>{});
  if (plan.no_new_privileges) check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs");
}

}  // namespace tsc
