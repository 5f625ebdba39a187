// The plan: everything the helper must do, normalized and validated by the
// TypeScript layer, sent as NUL-separated "key=value" entries on stdin-like fd.
// The keys, their value types and encodings are declared once in
// protocol/plan-fields.ts (generated into common/generated/plan_keys.h).
// Repeated keys make lists; "mount=<type>" starts a new mount whose
// "mount.*" keys follow it.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/generated/plan_keys.h"

namespace tsc {

enum class PlanMode { Run, Exec };

struct MountSpec {
  std::string type;    // bind | tmpfs
  std::string source;  // bind: host path
  std::string target;  // path inside the rootfs
  bool readonly = false;
  bool recursive = true;
  std::string size;    // tmpfs size= option, in bytes
  std::string mode;    // tmpfs mode= option, octal
};

// "container host size" (uidmap, gidmap) and "name soft hard" (rlimit), as declared.
using IdMap = IdMapValue;
using Rlimit = RlimitValue;

// A detached container's health check, run by its monitor (monitor/health_check.h).
struct HealthPlan {
  std::string exec_plan;  // the check's exec plan, serialized; empty: no checks
  unsigned interval_ms = 30000, timeout_ms = 30000, retries = 3, start_period_ms = 0;
};

struct Plan {
  PlanMode mode = PlanMode::Run;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd = "/";
  unsigned uid = 0, gid = 0;
  std::vector<unsigned> groups;
  // A user given by name ("name[:group]", "uid[:gid]"): resolved by the helper in the
  // container's own /etc/passwd and /etc/group once its root is in place (helper/user_lookup.h),
  // replacing uid, gid and groups; with user_home, HOME becomes the user's home directory.
  std::string user_spec;
  bool user_home = false;
  std::string hostname;
  std::vector<std::string> namespaces;  // pid mount uts ipc net cgroup user time
  std::vector<IdMap> uid_map, gid_map;
  long long monotonic_offset = 0, boottime_offset = 0;
  std::string rootfs;
  bool rootfs_readonly = false;
  bool rootfs_is_host = false;
  // The rootfs as an overlay (helper/overlay_root.h): its lower layers, top first, read-only
  // and shared; and the container's private upper and work directories, both empty when it
  // has no writable layer. No lower layers: the rootfs directory is bound as it is.
  std::vector<std::string> rootfs_lower;
  std::string rootfs_upper, rootfs_work;
  bool overlay_single_string = false;  // tests: the mount as before Linux 6.8 (no lowerdir+)
  // Set by the helper (not a plan key): it mounts the overlay over idmapped layers and hands
  // it to the container's first process (helper/idmapped_rootfs.h).
  bool rootfs_idmapped = false;
  // Set by the helper (not a plan key): the network namespace is made beside the process,
  // which joins it at /sys (helper/network_namespace_maker.h); `premade_network_fd` is the
  // one the setup server made ahead, when the process takes that one.
  bool network_namespace_apart = false;
  int premade_network_fd = -1;
  std::vector<MountSpec> mounts;
  // Sizes (bytes) of the tmpfs mounts the runtime makes on its own: /tmp, /var/tmp, /run,
  // /var/run, /dev/shm. A path not listed gets the kernel's default (half of RAM).
  std::vector<std::pair<std::string, std::string>> runtime_tmpfs_sizes;
  // Per mount, the detached tree of a bind source that the helper cloned
  // (and idmapped) before cloning the container's process; -1 for a tmpfs.
  std::vector<int> bind_tree_fds;
  std::vector<std::string> masked_paths, readonly_paths;
  bool sys_writable = false;  // privileged: /sys read-write
  std::vector<std::string> capabilities;  // kept set: bounding = permitted = effective (root)
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = true;
  bool init = false;
  // The container's cgroups: a cgroup2 directory to clone into, and the
  // cgroup.procs files of v1 hierarchies that the process joins before it runs.
  std::string cgroup2_path;
  std::vector<std::string> cgroup_v1_procs;
  std::string cgroup_pids;  // the cgroup whose pids limit applies (v1 or v2), when there is one
  // The container's cgroup directories to bind read-only below /sys/fs/cgroup:
  // "<subdir> <host directory>", or "- <host directory>" for /sys/fs/cgroup itself.
  std::vector<std::string> cgroup_mounts;
  // Symlinks below /sys/fs/cgroup, "<name> <target>": a controller's own name for a
  // v1 hierarchy mounted with others ("cpu" to "cpu,cpuacct").
  std::vector<std::string> cgroup_links;
  // Device rules ("c 1:3 rwm") for a BPF device program on cgroup2_path; empty
  // where the v1 devices controller holds them (lib/cgroups/device-rules.ts).
  std::vector<std::string> device_rules;
  // The seccomp program (struct sock_filter[]), loaded as the last step before
  // exec; with notify, its listener fd is sent to Node over the control channel.
  std::string seccomp_program;
  bool seccomp_notify = false;
  // A pseudo-terminal as the process's stdio and controlling terminal (and,
  // for the first process, /dev/console), of this size.
  bool tty = false;
  bool tty_console = false;
  unsigned short tty_columns = 80, tty_rows = 24;
  // create(): the first process waits, with everything made, until start()
  // opens this FIFO for reading (a process that is gone can never start).
  std::string start_fifo;
  // Cgroups made by Node while the helper clones and builds (helper/cgroup_gate.h): the index
  // among owner_fds of the pipe Node writes one byte on once they exist; -1 when they exist already.
  int cgroup_gate = -1;
  // With the gate: the cgroup2 directory exists before the plan (Node made it first), and the
  // process is cloned into it; the gate is for the v1 ones alone.
  bool cgroup_gate_v1_only = false;
  // A pool member (helper/late_gate.h): the index among owner_fds of the socket where the
  // first process waits for its late spec; -1 when it is not one.
  int late_gate = -1;
  // A detached container: the helper stays outside it as its monitor, logs its
  // output, records each exit and applies the restart policy.
  bool detach = false;
  std::string state_dir;  // where the monitor records runs (run.json)
  std::string log_path;   // where it appends the output frames
  unsigned long long log_max_size = 10ULL << 20;  // rotated past this many bytes (monitor/log_writer.h)
  unsigned log_max_files = 3;                     // container.log and at most this many less one older ones
  std::string restart_policy = "no";  // no | always | unless-stopped | on-failure
  unsigned restart_max = 0;           // on-failure: at most this many restarts; 0: no limit
  // The container's cgroup directories, removed by the monitor once the container stops for good.
  std::vector<std::string> cgroup_dirs;
  // Its network attachment records and, in the same order, where each one's
  // namespace is pinned: the monitor runs DEL at the end and DEL+ADD around restarts.
  std::vector<std::string> network_attachments, network_netns;
  // A detached container: the networks directory and its id there, where a restart finds
  // the attachments connect() added (re-added in the new namespace) and the hosts files
  // that name its addresses.
  std::string network_dir, network_container;
  // run -d --rm: once it stops for good, the monitor removes the state directory and the
  // writable layer (remove_layer_dir, with its record beside it), as a delete would.
  bool remove_on_exit = false;
  std::string remove_layer_dir;
  HealthPlan health;
  // Fds the addon passed at kFirstOwnerFd and up (flocks marking the container's
  // owner): the monitor holds them while it lives; the container's processes
  // never see them. Their count is the helper's argv[1].
  std::vector<int> owner_fds;
  // Crash tests: the step at which the helper stops (see test_pause.h).
  std::string test_pause, test_pause_file;
  // The opt-in phase trace (helper/phase_marks.h): mark each step, send the marks before the report.
  bool phase_trace = false;
  // Opened by the helper itself before it clones: the start FIFO (O_PATH) and a
  // run: namespaces joined from another container's process instead of made
  // (net uts ipc), that process's pid and its start time, checked once its pidfd is open.
  std::vector<std::string> shared_namespaces;
  pid_t share_pid = 0;
  std::string share_start_time;
  // The helper's own namespaces while it stands in the shared ones: closed in
  // the cloned process, which must hold no fd of the host's namespaces.
  std::vector<int> own_namespace_fds;
  // pidfd of the process the container's first process must not outlive.
  int start_fifo_fd = -1;
  int parent_pidfd = -1;
  // exec: the container's main pidfd, which the addon passes at kJoinPidfd (no plan key).
  int join_pidfd = -1;
  pid_t join_pid = 0;  // the same process's pid, for its /proc/<pid>/root

  bool has_namespace(const std::string& name) const;
  // Whether the runtime mounts its own tmpfs at target: not where a mount of the caller's replaces it.
  bool runtime_tmpfs_wanted(const std::string& target) const;
  // The size= option of the runtime's tmpfs at target; "" for the kernel's default.
  std::string runtime_tmpfs_size(const std::string& target) const;
};

// Parses the serialized plan; throws SetupError{"read plan (<entry>)", EINVAL} on an entry
// whose key is not declared, whose value does not fit its type, or a group member
// ("mount.target") before its group ("mount").
Plan parse_plan(const std::string& bytes);

// Reads the whole of fd until EOF.
std::string read_all(int fd);

}  // namespace tsc
