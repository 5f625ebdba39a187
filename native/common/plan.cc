#include "common/plan.h"

#include <unistd.h>

#include <cerrno>
#include <string>

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
  throw SetupError{"read plan (" + entry.substr(0, 60) + ")", EINVAL, StepId::ReadPlan};
}

// Values reach apply_entry checked against their declared type (plan_value_valid):
// these conversions cannot fail.
unsigned as_uint(const std::string& value) {
  unsigned n = 0;
  parse_plan_uint(value, &n);
  return n;
}

unsigned long long as_uint64(const std::string& value) {
  unsigned long long n = 0;
  parse_plan_uint64(value, &n);
  return n;
}

long long as_int64(const std::string& value) {
  long long n = 0;
  parse_plan_int64(value, &n);
  return n;
}

bool as_bool(const std::string& value) { return value == "1"; }

// The seccomp program travels as hex: the plan's entries are NUL-separated.
std::string from_hex(const std::string& hex) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string bytes(hex.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<char>(digit(hex[2 * i]) * 16 + digit(hex[2 * i + 1]));
  return bytes;
}

// No default: with -Werror=switch, a key declared in protocol/plan-fields.ts that has
// no case here fails the build.
void apply_entry(Plan& plan, PlanKey key, const std::string& value) {
  switch (key) {
    case PlanKey::Mode: plan.mode = value == "exec" ? PlanMode::Exec : PlanMode::Run; return;
    case PlanKey::Arg: plan.argv.push_back(value); return;
    case PlanKey::Env: plan.env.push_back(value); return;
    case PlanKey::Cwd: plan.cwd = value; return;
    case PlanKey::Uid: plan.uid = as_uint(value); return;
    case PlanKey::Gid: plan.gid = as_uint(value); return;
    case PlanKey::UserSpec: plan.user_spec = value; return;
    case PlanKey::UserHome: plan.user_home = as_bool(value); return;
    case PlanKey::SysWritable: plan.sys_writable = as_bool(value); return;
    case PlanKey::Group: plan.groups.push_back(as_uint(value)); return;
    case PlanKey::Hostname: plan.hostname = value; return;
    case PlanKey::Namespace: plan.namespaces.push_back(value); return;
    case PlanKey::Uidmap: plan.uid_map.emplace_back(); decode_id_map(value, &plan.uid_map.back()); return;
    case PlanKey::Gidmap: plan.gid_map.emplace_back(); decode_id_map(value, &plan.gid_map.back()); return;
    case PlanKey::TimeMonotonic: plan.monotonic_offset = as_int64(value); return;
    case PlanKey::TimeBoottime: plan.boottime_offset = as_int64(value); return;
    case PlanKey::Rootfs: plan.rootfs = value; return;
    case PlanKey::RootfsReadonly: plan.rootfs_readonly = as_bool(value); return;
    case PlanKey::RootfsHost: plan.rootfs_is_host = as_bool(value); return;
    case PlanKey::RootfsLower: plan.rootfs_lower.push_back(value); return;
    case PlanKey::RootfsUpper: plan.rootfs_upper = value; return;
    case PlanKey::RootfsWork: plan.rootfs_work = value; return;
    case PlanKey::TestOverlaySingleString: plan.overlay_single_string = as_bool(value); return;
    case PlanKey::Mount: plan.mounts.emplace_back(); plan.mounts.back().type = value; return;
    case PlanKey::MountSource: plan.mounts.back().source = value; return;
    case PlanKey::MountTarget: plan.mounts.back().target = value; return;
    case PlanKey::MountReadonly: plan.mounts.back().readonly = as_bool(value); return;
    case PlanKey::MountRecursive: plan.mounts.back().recursive = as_bool(value); return;
    case PlanKey::MountSize: plan.mounts.back().size = value; return;
    case PlanKey::MountMode: plan.mounts.back().mode = value; return;
    case PlanKey::TmpfsSize: {
      TmpfsSizeValue size;
      decode_tmpfs_size(value, &size);
      plan.runtime_tmpfs_sizes.emplace_back(size.target, std::to_string(size.bytes));
      return;
    }
    case PlanKey::Masked: plan.masked_paths.push_back(value); return;
    case PlanKey::Readonly: plan.readonly_paths.push_back(value); return;
    case PlanKey::Cap: plan.capabilities.push_back(value); return;
    case PlanKey::Rlimit: plan.rlimits.emplace_back(); decode_rlimit(value, &plan.rlimits.back()); return;
    case PlanKey::Nonewprivs: plan.no_new_privileges = as_bool(value); return;
    case PlanKey::Init: plan.init = as_bool(value); return;
    case PlanKey::Cgroup2: plan.cgroup2_path = value; return;
    case PlanKey::CgroupProcs: plan.cgroup_v1_procs.push_back(value); return;
    case PlanKey::CgroupPids: plan.cgroup_pids = value; return;
    case PlanKey::CgroupMount: plan.cgroup_mounts.push_back(value); return;
    case PlanKey::CgroupLink: plan.cgroup_links.push_back(value); return;
    case PlanKey::CgroupGate: plan.cgroup_gate = static_cast<int>(as_uint(value)); return;
    case PlanKey::CgroupGateV1Only: plan.cgroup_gate_v1_only = as_bool(value); return;
    case PlanKey::CgroupDeviceAllow: plan.device_rules.push_back(value); return;
    case PlanKey::Seccomp: plan.seccomp_program = from_hex(value); return;
    case PlanKey::SeccompNotify: plan.seccomp_notify = as_bool(value); return;
    case PlanKey::Share: plan.shared_namespaces.push_back(value); return;
    case PlanKey::SharePid: plan.share_pid = static_cast<pid_t>(as_uint(value)); return;
    case PlanKey::ShareStartTime: plan.share_start_time = value; return;
    case PlanKey::JoinPid: plan.join_pid = static_cast<pid_t>(as_uint(value)); return;
    case PlanKey::Tty: plan.tty = as_bool(value); return;
    case PlanKey::TtyConsole: plan.tty_console = as_bool(value); return;
    case PlanKey::TtyColumns: plan.tty_columns = static_cast<unsigned short>(as_uint(value)); return;
    case PlanKey::TtyRows: plan.tty_rows = static_cast<unsigned short>(as_uint(value)); return;
    case PlanKey::TestPause: plan.test_pause = value; return;
    case PlanKey::TestPauseFile: plan.test_pause_file = value; return;
    case PlanKey::PhaseTrace: plan.phase_trace = as_bool(value); return;
    case PlanKey::StartFifo: plan.start_fifo = value; return;
    case PlanKey::LateGate: plan.late_gate = static_cast<int>(as_uint(value)); return;
    case PlanKey::Detach: plan.detach = as_bool(value); return;
    case PlanKey::StateDir: plan.state_dir = value; return;
    case PlanKey::LogPath: plan.log_path = value; return;
    case PlanKey::LogMaxSize: plan.log_max_size = as_uint64(value); return;
    case PlanKey::LogMaxFiles: plan.log_max_files = as_uint(value); return;
    case PlanKey::RestartPolicy: plan.restart_policy = value; return;
    case PlanKey::RestartMax: plan.restart_max = as_uint(value); return;
    case PlanKey::CgroupDir: plan.cgroup_dirs.push_back(value); return;
    case PlanKey::NetworkAttachment: plan.network_attachments.push_back(value); return;
    case PlanKey::NetworkNetns: plan.network_netns.push_back(value); return;
    case PlanKey::NetworkDir: plan.network_dir = value; return;
    case PlanKey::NetworkContainer: plan.network_container = value; return;
    case PlanKey::RemoveOnExit: plan.remove_on_exit = as_bool(value); return;
    case PlanKey::RemoveLayerDir: plan.remove_layer_dir = value; return;
    case PlanKey::HealthPlan: plan.health.exec_plan = from_hex(value); return;
    case PlanKey::HealthInterval: plan.health.interval_ms = as_uint(value); return;
    case PlanKey::HealthTimeout: plan.health.timeout_ms = as_uint(value); return;
    case PlanKey::HealthRetries: plan.health.retries = as_uint(value); return;
    case PlanKey::HealthStartPeriod: plan.health.start_period_ms = as_uint(value); return;
  }
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
    const PlanKeyInfo* info = find_plan_key(entry.substr(0, eq));
    std::string value = entry.substr(eq + 1);
    if (info == nullptr || !plan_value_valid(info->key, value)) malformed(entry);
    // A group's member ("mount.target") applies to the last entry that started it ("mount").
    if (info->group != nullptr && plan.mounts.empty()) malformed(entry);
    apply_entry(plan, info->key, value);
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
    if (n < 0) throw SetupError{"read plan", errno, StepId::ReadPlan};
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace tsc
