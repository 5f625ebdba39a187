// The device cgroup on cgroup v2, which has no devices controller: a
// BPF_CGROUP_DEVICE program, built here from the rules the plan carries (the
// kernel's v1 syntax, "c 1:3 rwm", "b *:* m"), attached to the container's
// cgroup before its first process is cloned into it. Any device access that
// no rule allows fails with EPERM, as with the v1 controller.
#pragma once

#include <string>
#include <vector>

namespace tsc {

// Throws SetupError; an unparsable rule is EINVAL naming the rule.
void attach_device_program(const std::string& cgroup_dir, const std::vector<std::string>& rules);

}  // namespace tsc
