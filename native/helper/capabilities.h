// Capabilities by name (as <linux/capability.h> defines them), and the final
// capability state of a container process: bounding set cut to the kept set,
// nothing inheritable or ambient.
#pragma once

#include <string>
#include <vector>

namespace tsc {

// Number of a capability named "CAP_CHOWN"; throws SetupError on an unknown name.
int capability_number(const std::string& name);

// Drops every capability outside `kept` from the bounding set. Needs CAP_SETPCAP.
void restrict_bounding_set(const std::vector<std::string>& kept);

// Sets effective and permitted to `kept` (empty for a non-root user), clears
// inheritable and ambient.
void set_process_capabilities(const std::vector<std::string>& kept);

}  // namespace tsc
