#include "helper/rlimits.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "common/setup_error.h"

namespace tsc {

namespace {

struct NamedLimit {
  const char* name;
  int resource;
};

constexpr NamedLimit kLimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},     {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

int resource_number(const std::string& name) {
  for (const auto& limit : kLimits) {
    if (name == limit.name) return limit.resource;
  }
  throw SetupError{"rlimit " + name, EINVAL};
}

rlim_t to_rlim(unsigned long long value) {
  // The plan spells "unlimited" as the largest 64-bit value.
  return value == ~0ULL ? RLIM_INFINITY : static_cast<rlim_t>(value);
}

}  // namespace

void apply_rlimits(const std::vector<Rlimit>& limits) {
  for (const auto& limit : limits) {
    struct rlimit value;
    value.rlim_cur = to_rlim(limit.soft);
    value.rlim_max = to_rlim(limit.hard);
    check(setrlimit(static_cast<__rlimit_resource>(resource_number(limit.name)), &value), "setrlimit " + limit.name);
  }
}

}  // namespace tsc
