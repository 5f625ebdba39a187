#include "common/plan.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/setup_error.h"

namespace tsc {

bool Plan::has_namespace(const std::string& name) const {
  for (const auto& n : namespaces)
    if (n == name) return true;
  return false;
}

bool Plan::runtime_tmpfs_wanted(const std::string& target) const {
  for (const auto& m : mounts)
    if (m.target == target) return false;
  return true;
}

std::string Plan::runtime_tmpfs_size(const std::string& target) const {
  for (const auto& [path, size] : runtime_tmpfs_sizes)
    if (path == target) return size;
  return "";
}

namespace {

[[noreturn]] void malformed(const std::string& entry) {
  throw SetupError{"read plan (" + entry.substr(0, 60) + ")", EINVAL};
}

unsigned long long to_number(const std::string& text, const std::string& entry) {
  if (text.empty()) malformed(entry);
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') malformed(entry);
  return value;
}

long long to_signed(const std::string& text, const std::string& entry) {
  char* end = nullptr;
  errno = 0;
  long long value = strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || *end != '\0') malformed(entry);
  return value;
}

std::vector<std::string> split_spaces(const std::string& text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

IdMap to_id_map(const std::string& value, const std::string& entry) {
  auto words = split_spaces(value);
  if (words.size() != 3) malformed(entry);
  return IdMap{static_cast<unsigned long>(to_number(words[0], entry)),
               static_cast<unsigned long>(to_number(words[1], entry)),
               static_cast<unsigned long>(to_number(words[2], entry))};
}

// The seccomp program travels as hex: the plan's entries are NUL-separated.
std::string from_hex(const std::string& hex, const std::string& entry) {
  if (hex.size() % 2 != 0) malformed(entry);
  std::string bytes(hex.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size(); i++) {
    auto digit = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      malformed(entry);
    };
    bytes[i] = static_cast<char>(digit(hex[2 * i]) * 16 + digit(hex[2 * i + 1]));
  }
  return bytes;
}

MountSpec& current_mount(Plan& plan, const std::string& entry) {
  if (plan.mounts.empty()) malformed(entry);
  return plan.mounts.back();
}

void apply_entry(Plan& plan, const std::string& key, const std::string& value, const std::string& entry) {
  if (key == "mode") {
    if (value == "run") plan.mode = PlanMode::Run;
    else if (value == "exec") plan.mode = PlanMode::Exec;
    else malformed(entry);
  } else if (key == "arg") plan.argv.push_back(value);
  else if (key == "env") plan.env.push_back(value);
  else if (key == "cwd") plan.cwd = value;
  else if (key == "uid") plan.uid = static_cast<unsigned>(to_number(value, entry));
  else if (key == "gid") plan.gid = static_cast<unsigned>(to_number(value, entry));
  else if (key == "group") plan.groups.push_back(static_cast<unsigned>(to_number(value, entry)));
  else if (key == "hostname") plan.hostname = value;
  else if (key == "namespace") plan.namespaces.push_back(value);
  else if (key == "uidmap") plan.uid_map.push_back(to_id_map(value, entry));
  else if (key == "gidmap") plan.gid_map.push_back(to_id_map(value, entry));
  else if (key == "time.monotonic") plan.monotonic_offset = to_signed(value, entry);
  else if (key == "time.boottime") plan.boottime_offset = to_signed(value, entry);
  else if (key == "rootfs") plan.rootfs = value;
  else if (key == "rootfs.readonly") plan.rootfs_readonly = value == "1";
  else if (key == "rootfs.host") plan.rootfs_is_host = value == "1";
  else if (key == "rootfs.lower") plan.rootfs_lower.push_back(value);
  else if (key == "rootfs.upper") plan.rootfs_upper = value;
  else if (key == "rootfs.work") plan.rootfs_work = value;
  else if (key == "test.overlay_single_string") plan.overlay_single_string = value == "1";
  else if (key == "mount") {
    MountSpec m;
    m.type = value;
    if (m.type != "bind" && m.type != "tmpfs") malformed(entry);
    plan.mounts.push_back(m);
  } else if (key == "mount.source") current_mount(plan, entry).source = value;
  else if (key == "mount.target") current_mount(plan, entry).target = value;
  else if (key == "mount.readonly") current_mount(plan, entry).readonly = value == "1";
  else if (key == "mount.recursive") current_mount(plan, entry).recursive = value == "1";
  else if (key == "mount.size") current_mount(plan, entry).size = value;
  else if (key == "mount.mode") current_mount(plan, entry).mode = value;
  else if (key == "tmpfs.size") {
    auto words = split_spaces(value);
    if (words.size() != 2 || words[0].empty() || words[0][0] != '/') malformed(entry);
    to_number(words[1], entry);
    plan.runtime_tmpfs_sizes.emplace_back(words[0], words[1]);
  }
  else if (key == "masked") plan.masked_paths.push_back(value);
  else if (key == "readonly") plan.readonly_paths.push_back(value);
  else if (key == "cap") plan.capabilities.push_back(value);
  else if (key == "rlimit") {
    auto words = split_spaces(value);
    if (words.size() != 3) malformed(entry);
    plan.rlimits.push_back(Rlimit{words[0], to_number(words[1], entry), to_number(words[2], entry)});
  } else if (key == "nonewprivs") plan.no_new_privileges = value == "1";
  else if (key == "init") plan.init = value == "1";
  else if (key == "cgroup2") plan.cgroup2_path = value;
  else if (key == "cgroup.procs") plan.cgroup_v1_procs.push_back(value);
  else if (key == "cgroup.pids") plan.cgroup_pids = value;
  else if (key == "cgroup.mount") plan.cgroup_mounts.push_back(value);
  else if (key == "cgroup.device_allow") plan.device_rules.push_back(value);
  else if (key == "seccomp") plan.seccomp_program = from_hex(value, entry);
  else if (key == "seccomp.notify") plan.seccomp_notify = value == "1";
  else if (key == "join.pid") plan.join_pid = static_cast<pid_t>(to_number(value, entry));
  else if (key == "join.pidfd") plan.join_pidfd = static_cast<int>(to_number(value, entry));
  else if (key == "tty") plan.tty = value == "1";
  else if (key == "tty.console") plan.tty_console = value == "1";
  else if (key == "tty.columns") plan.tty_columns = static_cast<unsigned short>(to_number(value, entry));
  else if (key == "tty.rows") plan.tty_rows = static_cast<unsigned short>(to_number(value, entry));
  else if (key == "test.pause") plan.test_pause = value;
  else if (key == "test.pause_file") plan.test_pause_file = value;
  else if (key == "start.fifo") plan.start_fifo = value;
  else if (key == "detach") plan.detach = value == "1";
  else if (key == "monitor.dir") plan.state_dir = value;
  else if (key == "monitor.log") plan.log_path = value;
  else if (key == "log.max_size") plan.log_max_size = to_number(value, entry);
  else if (key == "log.max_files") plan.log_max_files = static_cast<unsigned>(to_number(value, entry));
  else if (key == "restart.policy") plan.restart_policy = value;
  else if (key == "restart.max") plan.restart_max = static_cast<unsigned>(to_number(value, entry));
  else if (key == "cgroup.dir") plan.cgroup_dirs.push_back(value);
  else if (key == "cgroup.parent_dir") plan.cgroup_parent_dirs.push_back(value);
  else malformed(entry);
}

}  // namespace

Plan parse_plan(const std::string& bytes) {
  Plan plan;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\0', start);
    if (end == std::string::npos) end = bytes.size();
    std::string entry = bytes.substr(start, end - start);
    start = end + 1;
    if (entry.empty()) continue;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) malformed(entry);
    apply_entry(plan, entry.substr(0, eq), entry.substr(eq + 1), entry);
  }
  if (plan.argv.empty()) malformed("arg");
  return plan;
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SetupError{"read plan", errno};
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace tsc
