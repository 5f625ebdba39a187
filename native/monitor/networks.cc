#include "monitor/networks.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/cni_exec.h"
#include "common/generated/state_files.h"

namespace tsc {

namespace {

const std::string& pin_of(const Plan& plan, size_t i) {
  static const std::string none;
  return i < plan.network_netns.size() ? plan.network_netns[i] : none;
}

void unpin(const std::string& pin) {
  if (pin.empty()) return;
  while (umount2(pin.c_str(), MNT_DETACH) == 0) {
  }
  unlink(pin.c_str());
}

bool pin(pid_t pid, const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  close(fd);
  std::string source = "/proc/" + std::to_string(pid) + "/ns/net";
  return mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) == 0;
}

}  // namespace

void release_networks(const Plan& plan) {
  for (size_t i = 0; i < plan.network_attachments.size(); i++) {
    cni_run(plan.network_attachments[i], "DEL", pin_of(plan, i));
    unpin(pin_of(plan, i));
  }
}

std::vector<std::string> release_for_restart(const Plan& plan) {
  std::vector<std::string> addresses;
  for (const std::string& record : plan.network_attachments) addresses.push_back(stored_address(record));
  release_networks(plan);
  return addresses;
}

bool attach_networks(const Plan& plan, pid_t pid, const std::vector<std::string>& addresses, std::string* error) {
  for (size_t i = 0; i < plan.network_attachments.size(); i++) {
    const std::string& path = pin_of(plan, i);
    if (!pin(pid, path)) {
      *error = "pin the network namespace at " + path + ": " + strerror(errno);
      return false;
    }
    std::string args = i < addresses.size() && !addresses[i].empty() ? "IgnoreUnknown=1;IP=" + addresses[i] : "";
    CniOutcome outcome = cni_run(plan.network_attachments[i], "ADD", path, args);
    // The address is taken (by a container that joined meanwhile): any address will do.
    if (!outcome.ok && !args.empty()) outcome = cni_run(plan.network_attachments[i], "ADD", path);
    if (!outcome.ok) {
      *error = "CNI plugin " + outcome.plugin + " failed (ADD): " + outcome.output + outcome.diagnostics;
      return false;
    }
  }
  return true;
}

std::string make_restart_gate(const Plan& plan) {
  std::string fifo = plan.state_dir + "/" + kStateFileStartFifo;
  unlink(fifo.c_str());
  if (mkfifo(fifo.c_str(), 0622) != 0) return "";
  // mkfifo's mode is masked by the umask: the container's user (any uid) opens it to write.
  chmod(fifo.c_str(), 0622);
  return fifo;
}

void open_restart_gate(const std::string& fifo, int pidfd) {
  int fd = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    for (;;) {
      char byte;
      if (read(fd, &byte, 1) == 1) break;
      // The process died before it went on: its exit is watched as any other.
      struct pollfd dead = {pidfd, POLLIN, 0};
      if (poll(&dead, 1, 0) > 0) break;
      struct timespec ts = {0, 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
    close(fd);
  }
  unlink(fifo.c_str());
}

}  // namespace tsc
