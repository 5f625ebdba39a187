#include "monitor/networks.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/cni_exec.h"
#include "common/generated/network_attachment.h"
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

// The flock of <dir>/.lock, which every change of the data root's networks
// (lib/networks/network-store.ts withNetworksLock) holds; none without a dir.
class NetworksLock {
 public:
  explicit NetworksLock(const std::string& dir) {
    if (dir.empty()) return;
    fd_ = open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    while (fd_ >= 0 && flock(fd_, LOCK_EX) < 0 && errno == EINTR) {
    }
  }
  ~NetworksLock() {
    if (fd_ >= 0) close(fd_);
  }
  NetworksLock(const NetworksLock&) = delete;
  NetworksLock& operator=(const NetworksLock&) = delete;

 private:
  int fd_ = -1;
};

bool read_whole(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  out->clear();
  char buffer[8192];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) out->append(buffer, n);
  close(fd);
  return n == 0;
}

// Rewrites the file's bytes keeping its inode: it is bind-mounted at a
// container's /etc/hosts, and a rename would leave the mount on the old file.
void rewrite_in_place(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  ssize_t written = pwrite(fd, text.data(), text.size(), 0);
  if (written == static_cast<ssize_t>(text.size())) {
    int ignored = ftruncate(fd, static_cast<off_t>(text.size()));
    (void)ignored;
  }
  close(fd);
}

// Every member's hosts file (<dir>/resolve/<member>/hosts, written by
// lib/networks/hosts-file.ts as "ADDRESS<TAB>ID NAMES...") that names the
// container `id` at `from` names it at `to` instead; the rest is kept as it is.
void readdress_hosts(const std::string& dir, const std::string& id, const std::string& from, const std::string& to) {
  std::string resolve = dir + "/resolve";
  DIR* members = opendir(resolve.c_str());
  if (!members) return;
  const std::string prefix = from + "\t" + id;
  while (struct dirent* entry = readdir(members)) {
    if (entry->d_name[0] == '.') continue;
    std::string path = resolve + "/" + entry->d_name + "/hosts";
    std::string text;
    if (!read_whole(path, &text)) continue;
    std::string changed;
    bool any = false;
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find('\n', at);
      size_t next = end == std::string::npos ? text.size() : end + 1;
      std::string line = text.substr(at, next - at);
      char after = line.size() > prefix.size() ? line[prefix.size()] : '\n';
      if (line.compare(0, prefix.size(), prefix) == 0 && (after == ' ' || after == '\n')) {
        line = to + line.substr(from.size());
        any = true;
      }
      changed += line;
      at = next;
    }
    if (any) rewrite_in_place(path, changed);
  }
  closedir(members);
}

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

}  // namespace

std::vector<NetworkLink> container_links(const Plan& plan) {
  std::vector<NetworkLink> links;
  for (size_t i = 0; i < plan.network_attachments.size(); i++) links.push_back({plan.network_attachments[i], pin_of(plan, i)});
  if (plan.network_dir.empty() || plan.network_container.empty()) return links;
  NetworksLock lock(plan.network_dir);
  DIR* networks = opendir(plan.network_dir.c_str());
  if (!networks) return links;
  while (struct dirent* entry = readdir(networks)) {
    if (entry->d_name[0] == '.') continue;
    std::string record = plan.network_dir + "/" + entry->d_name + "/attachments/" + plan.network_container + kAttachmentFileRecord;
    if (!exists(record)) continue;
    if (std::find(plan.network_attachments.begin(), plan.network_attachments.end(), record) != plan.network_attachments.end()) continue;
    links.push_back({record, plan.network_dir + "/netns/" + plan.network_container + "@" + entry->d_name});
  }
  closedir(networks);
  return links;
}

void release_networks(const Plan& plan) {
  std::vector<NetworkLink> links = container_links(plan);
  NetworksLock lock(plan.network_dir);
  for (const NetworkLink& link : links) {
    cni_run(link.record, "DEL", link.pin);
    unpin(link.pin);
  }
}

std::vector<std::string> release_for_restart(const Plan& plan, const std::vector<NetworkLink>& links) {
  NetworksLock lock(plan.network_dir);
  std::vector<std::string> addresses;
  for (const NetworkLink& link : links) {
    addresses.push_back(stored_address(link.record));
    cni_run(link.record, "DEL", link.pin);
    unpin(link.pin);
  }
  return addresses;
}

bool attach_networks(const Plan& plan, const std::vector<NetworkLink>& links, pid_t pid,
                     const std::vector<std::string>& addresses, std::string* error) {
  NetworksLock lock(plan.network_dir);
  for (size_t i = 0; i < links.size(); i++) {
    const NetworkLink& link = links[i];
    // Disconnected while the container was down: nothing to add back.
    if (!exists(link.record)) continue;
    if (!pin(pid, link.pin)) {
      *error = "pin the network namespace at " + link.pin + ": " + strerror(errno);
      return false;
    }
    const std::string& old_address = i < addresses.size() ? addresses[i] : "";
    std::string args = old_address.empty() ? "" : "IgnoreUnknown=1;IP=" + old_address;
    CniOutcome outcome = cni_run(link.record, "ADD", link.pin, args);
    // The address is taken (by a container that joined meanwhile): any address will do. The
    // failed ADD made the interface before IPAM refused: its DEL takes it away first.
    if (!outcome.ok && !args.empty()) {
      cni_run(link.record, "DEL", link.pin);
      outcome = cni_run(link.record, "ADD", link.pin);
    }
    if (!outcome.ok) {
      *error = "CNI plugin " + outcome.plugin + " failed (ADD of " + link.record + "): " + outcome.output + outcome.diagnostics;
      return false;
    }
    std::string new_address = stored_address(link.record);
    if (!plan.network_dir.empty() && !old_address.empty() && !new_address.empty() && new_address != old_address) {
      readdress_hosts(plan.network_dir, plan.network_container, old_address, new_address);
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
