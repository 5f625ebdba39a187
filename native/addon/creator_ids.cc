#include "addon/creator_ids.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tsc {

namespace {

// Leaving fs uid 0 clears the file capabilities (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER...)
// from the effective set; they stay permitted, so they are raised again for this thread.
void raise_permitted() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return;
  for (auto& d : data) d.effective = d.permitted;
  syscall(SYS_capset, &header, data);
}

}  // namespace

CreatorIds::CreatorIds(uid_t uid, gid_t gid) {
  // setfsgid/setfsuid return the previous id (and cannot report failure otherwise).
  saved_gid_ = static_cast<gid_t>(syscall(SYS_setfsgid, gid));
  saved_uid_ = static_cast<uid_t>(syscall(SYS_setfsuid, uid));
  raise_permitted();
}

CreatorIds::~CreatorIds() {
  syscall(SYS_setfsuid, saved_uid_);
  syscall(SYS_setfsgid, saved_gid_);
  raise_permitted();
}

}  // namespace tsc
