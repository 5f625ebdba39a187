#include "helper/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/setup_error.h"

namespace tsc {

namespace {

struct NamedCapability {
  const char* name;
  int number;
};

#define TSC_CAP(name) {#name, name}
constexpr NamedCapability kCapabilities[] = {
    TSC_CAP(CAP_CHOWN), TSC_CAP(CAP_DAC_OVERRIDE), TSC_CAP(CAP_DAC_READ_SEARCH), TSC_CAP(CAP_FOWNER),
    TSC_CAP(CAP_FSETID), TSC_CAP(CAP_KILL), TSC_CAP(CAP_SETGID), TSC_CAP(CAP_SETUID), TSC_CAP(CAP_SETPCAP),
    TSC_CAP(CAP_LINUX_IMMUTABLE), TSC_CAP(CAP_NET_BIND_SERVICE), TSC_CAP(CAP_NET_BROADCAST),
    TSC_CAP(CAP_NET_ADMIN), TSC_CAP(CAP_NET_RAW), TSC_CAP(CAP_IPC_LOCK), TSC_CAP(CAP_IPC_OWNER),
    TSC_CAP(CAP_SYS_MODULE), TSC_CAP(CAP_SYS_RAWIO), TSC_CAP(CAP_SYS_CHROOT), TSC_CAP(CAP_SYS_PTRACE),
    TSC_CAP(CAP_SYS_PACCT), TSC_CAP(CAP_SYS_ADMIN), TSC_CAP(CAP_SYS_BOOT), TSC_CAP(CAP_SYS_NICE),
    TSC_CAP(CAP_SYS_RESOURCE), TSC_CAP(CAP_SYS_TIME), TSC_CAP(CAP_SYS_TTY_CONFIG), TSC_CAP(CAP_MKNOD),
    TSC_CAP(CAP_LEASE), TSC_CAP(CAP_AUDIT_WRITE), TSC_CAP(CAP_AUDIT_CONTROL), TSC_CAP(CAP_SETFCAP),
    TSC_CAP(CAP_MAC_OVERRIDE), TSC_CAP(CAP_MAC_ADMIN), TSC_CAP(CAP_SYSLOG), TSC_CAP(CAP_WAKE_ALARM),
    TSC_CAP(CAP_BLOCK_SUSPEND), TSC_CAP(CAP_AUDIT_READ), TSC_CAP(CAP_PERFMON), TSC_CAP(CAP_BPF),
    TSC_CAP(CAP_CHECKPOINT_RESTORE),
};
#undef TSC_CAP

}  // namespace

int capability_number(const std::string& name) {
  for (const auto& cap : kCapabilities) {
    if (name == cap.name) return cap.number;
  }
  throw SetupError{"capability " + name, EINVAL};
}

void restrict_bounding_set(const std::vector<std::string>& kept) {
  unsigned long long keep_mask = 0;
  for (const auto& name : kept) keep_mask |= 1ULL << capability_number(name);
  // The running kernel may know more capabilities than these headers: drop
  // until the kernel says the number is past its last one.
  for (int cap = 0; cap < 64; cap++) {
    if (keep_mask & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;
      throw SetupError{"drop capability " + std::to_string(cap) + " from the bounding set", errno};
    }
  }
}

void set_process_capabilities(const std::vector<std::string>& kept) {
  struct __user_cap_header_struct header;
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(&header, 0, sizeof header);
  memset(data, 0, sizeof data);
  header.version = _LINUX_CAPABILITY_VERSION_3;
  for (const auto& name : kept) {
    int cap = capability_number(name);
    data[cap / 32].effective |= 1U << (cap % 32);
    data[cap / 32].permitted |= 1U << (cap % 32);
  }
  check(syscall(SYS_capset, &header, data), "set capabilities");
  check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities");
}

}  // namespace tsc
