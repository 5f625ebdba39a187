#include "helper/namespace_hold.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>

#include "common/control_channel.h"

namespace tsc {

void send_namespace_holds(pid_t pid, unsigned long namespace_flags) {
  struct Held {
    unsigned long flag;
    const char* name;
  };
  static const Held kHeld[] = {{CLONE_NEWNS, "mnt"}, {CLONE_NEWNET, "net"}};
  for (const Held& held : kHeld) {
    if (!(namespace_flags & held.flag)) continue;
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + held.name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    // Only a speed-up: without it the exit tears the namespace down as it always could.
    if (fd < 0) continue;
    send_message(kControlFd, kNamespaceHoldMessage, fd);
    close(fd);
  }
}

}  // namespace tsc
