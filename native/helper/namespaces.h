// Namespace names as the plan spells them, and the CLONE_NEW* flags they mean.
#pragma once

#include <string>
#include <vector>

namespace tsc {

// CLONE_NEW* flags for the named namespaces; throws SetupError on an unknown name.
unsigned long namespace_flags(const std::vector<std::string>& names);

// A new time namespace for the helper's future children, with clock offsets.
void prepare_time_namespace(long long monotonic_offset, long long boottime_offset);

// Joins every namespace in `flags` of the process behind pidfd, atomically.
void join_namespaces(int pidfd, unsigned long flags);

}  // namespace tsc
