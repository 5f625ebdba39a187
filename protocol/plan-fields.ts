/**
 * The plan: every key the TypeScript side sends to the native helper (and, for a detached
 * container, to the monitor it becomes), declared once. scripts/generate-protocol.ts turns this
 * list into lib/protocol/generated/plan.ts (typed entries and their encoders, so that
 * lib/container/plan.ts can only emit declared keys with the declared value types) and into
 * native/common/generated/plan_keys.h (an enum of keys that native/common/plan.cc switches
 * over, compiled with -Werror=switch, and decoders for the structured values).
 *
 * On the wire the plan is NUL-separated "key=value" entries. A repeated key makes a list; a
 * key of a group ("mount.*") belongs to the last entry that started the group ("mount").
 * A new field is one edit here plus its use on each side; test/protocol-unit fails until both
 * sides have it.
 */

/** How a single value is spelled. */
export type ScalarType =
  | 'string' // any text without NUL
  | 'uint' // unsigned decimal that fits 32 bits
  | 'uint64' // unsigned decimal that fits 64 bits (18446744073709551615 is RLIM_INFINITY)
  | 'int64' // signed decimal
  | 'bool' // "1" or "0"
  | 'hex'; // bytes as lower-case hex (the plan's entries are NUL-separated)

/** One part of a structured value: the parts are joined by single spaces. */
export interface ValuePart {
  name: string;
  type: Exclude<ScalarType, 'bool' | 'hex'>;
  /** The part must start with '/'. */
  absolute?: boolean;
}

export interface PlanField {
  key: string;
  /** A scalar, or the parts of a structured value ("name soft hard"). */
  type: ScalarType | { record: string; parts: ValuePart[] };
  /** For a string: the only values allowed (TypeScript types them as a union). */
  values?: string[];
  /** Several entries make a list. */
  repeated?: boolean;
  /** The key that starts the group this key belongs to (it applies to the last one). */
  group?: string;
  /** The programs that act on it: the one-shot helper, or the monitor of a detached container. */
  readBy: 'helper' | 'monitor';
  description: string;
}

const idMap: PlanField['type'] = { record: 'IdMap', parts: [{ name: 'containerId', type: 'uint' }, { name: 'hostId', type: 'uint' }, { name: 'size', type: 'uint' }] };

export const PLAN_FIELDS: readonly PlanField[] = [
  { key: 'mode', type: 'string', values: ['run', 'exec'], readBy: 'helper', description: "run: make a container's first process; exec: join a running container" },
  { key: 'arg', type: 'string', repeated: true, readBy: 'helper', description: "the program's argv, in order (at least one)" },
  { key: 'env', type: 'string', repeated: true, readBy: 'helper', description: 'one NAME=value of the environment' },
  { key: 'cwd', type: 'string', readBy: 'helper', description: 'the working directory inside the container' },
  { key: 'uid', type: 'uint', readBy: 'helper', description: 'the user the program runs as' },
  { key: 'gid', type: 'uint', readBy: 'helper', description: 'its group' },
  { key: 'group', type: 'uint', repeated: true, readBy: 'helper', description: 'a supplementary group' },
  { key: 'user.spec', type: 'string', readBy: 'helper', description: "'name[:group]' or 'uid[:gid]': resolved in the container's /etc/passwd and /etc/group after pivot_root, replacing uid, gid and group" },
  { key: 'user.home', type: 'bool', readBy: 'helper', description: "with user.spec: HOME is the resolved user's home directory (the caller's env set none)" },
  { key: 'hostname', type: 'string', readBy: 'helper', description: "the UTS namespace's hostname" },
  { key: 'namespace', type: 'string', values: ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup', 'user', 'time'], repeated: true, readBy: 'helper', description: 'a namespace the container gets (run) or joins (exec)' },
  { key: 'uidmap', type: idMap, repeated: true, readBy: 'helper', description: 'a line of the user namespace uid_map: "container host size"' },
  { key: 'gidmap', type: idMap, repeated: true, readBy: 'helper', description: 'a line of the user namespace gid_map: "container host size"' },
  { key: 'time.monotonic', type: 'int64', readBy: 'helper', description: "the time namespace's CLOCK_MONOTONIC offset, in seconds" },
  { key: 'time.boottime', type: 'int64', readBy: 'helper', description: "the time namespace's CLOCK_BOOTTIME offset, in seconds" },
  { key: 'rootfs', type: 'string', readBy: 'helper', description: "the host directory that becomes the container's /" },
  { key: 'rootfs.readonly', type: 'bool', readBy: 'helper', description: 'the rootfs is mounted read-only' },
  { key: 'rootfs.host', type: 'bool', readBy: 'helper', description: "the rootfs is the host's own / (seen through an idmapped or read-only bind)" },
  { key: 'rootfs.lower', type: 'string', repeated: true, readBy: 'helper', description: "a lower layer of the rootfs overlay, top first (an image's layer, or the rootfs directory)" },
  { key: 'rootfs.upper', type: 'string', readBy: 'helper', description: "the overlay's upper layer: the container's private writable layer (absent: none)" },
  { key: 'rootfs.work', type: 'string', readBy: 'helper', description: "overlayfs's work directory for that upper layer" },
  { key: 'test.overlay_single_string', type: 'bool', readBy: 'helper', description: 'tests: mount the overlay as before Linux 6.8 (one lowerdir string)' },
  { key: 'mount', type: 'string', values: ['bind', 'tmpfs'], repeated: true, readBy: 'helper', description: 'starts a mount of this type; its mount.* keys follow' },
  { key: 'mount.source', type: 'string', group: 'mount', readBy: 'helper', description: 'bind: the host path' },
  { key: 'mount.target', type: 'string', group: 'mount', readBy: 'helper', description: 'the path inside the rootfs' },
  { key: 'mount.readonly', type: 'bool', group: 'mount', readBy: 'helper', description: 'the mount is read-only' },
  { key: 'mount.recursive', type: 'bool', group: 'mount', readBy: 'helper', description: 'bind: the submounts come along (rbind)' },
  { key: 'mount.size', type: 'uint64', group: 'mount', readBy: 'helper', description: "tmpfs: its size= option, in bytes" },
  { key: 'mount.mode', type: 'string', group: 'mount', readBy: 'helper', description: "tmpfs: its mode= option, octal" },
  {
    key: 'tmpfs.size',
    type: { record: 'TmpfsSize', parts: [{ name: 'target', type: 'string', absolute: true }, { name: 'bytes', type: 'uint64' }] },
    repeated: true,
    readBy: 'helper',
    description: "the size of a tmpfs the runtime makes itself (/tmp, /run, /dev/shm...): \"target bytes\"",
  },
  { key: 'masked', type: 'string', repeated: true, readBy: 'helper', description: 'a path made unreadable (/proc/kcore...)' },
  { key: 'readonly', type: 'string', repeated: true, readBy: 'helper', description: 'a path remounted read-only (/proc/sys...)' },
  { key: 'sys.writable', type: 'bool', readBy: 'helper', description: 'privileged: /sys is mounted read-write' },
  { key: 'cap', type: 'string', repeated: true, readBy: 'helper', description: 'a capability the program keeps (CAP_CHOWN...)' },
  {
    key: 'rlimit',
    type: { record: 'Rlimit', parts: [{ name: 'name', type: 'string' }, { name: 'soft', type: 'uint64' }, { name: 'hard', type: 'uint64' }] },
    repeated: true,
    readBy: 'helper',
    description: 'a resource limit: "name soft hard", 18446744073709551615 for unlimited',
  },
  { key: 'nonewprivs', type: 'bool', readBy: 'helper', description: 'set no_new_privs before exec' },
  { key: 'init', type: 'bool', readBy: 'helper', description: 'a tiny init runs as pid 1 and the program as its child' },
  { key: 'cgroup2', type: 'string', readBy: 'helper', description: 'the cgroup2 directory the process is cloned into' },
  { key: 'cgroup.procs', type: 'string', repeated: true, readBy: 'helper', description: 'a v1 cgroup.procs file the process joins before it runs' },
  { key: 'cgroup.pids', type: 'string', readBy: 'helper', description: 'the cgroup whose pids limit applies (v1 or v2)' },
  { key: 'cgroup.mount', type: 'string', repeated: true, readBy: 'helper', description: 'a cgroup directory bound below /sys/fs/cgroup: "<subdir> <host dir>", "- <host dir>" for the top' },
  { key: 'cgroup.link', type: 'string', repeated: true, readBy: 'helper', description: 'a symlink below /sys/fs/cgroup: "<name> <target>", a controller\'s own name for a v1 hierarchy mounted with others ("cpu" to "cpu,cpuacct"), as the host names it' },
  { key: 'cgroup.gate', type: 'uint', readBy: 'helper', description: "the index among the owner fds of a pipe on which Node writes one byte once it has made the container's cgroups, which it makes while the helper clones the first process and builds its root; end of file instead: they could not be made" },
  { key: 'cgroup.gate_v1_only', type: 'bool', readBy: 'helper', description: "with cgroup.gate: Node made the cgroup2 directory before the plan, and the gate waits for the v1 ones alone; the process is cloned into cgroup2 (a move by cgroup.procs could wait for an RCU grace period)" },
  { key: 'cgroup.device_allow', type: 'string', repeated: true, readBy: 'helper', description: 'a device rule ("c 1:3 rwm") of the BPF device program on cgroup2' },
  { key: 'seccomp', type: 'hex', readBy: 'helper', description: 'the seccomp program (struct sock_filter[]), loaded just before exec' },
  { key: 'seccomp.notify', type: 'bool', readBy: 'helper', description: "the program has notify rules: its listener fd goes to Node" },
  { key: 'share', type: 'string', values: ['net', 'uts', 'ipc'], repeated: true, readBy: 'helper', description: "run: a namespace taken from the process share.pid instead of made (docker's --network container:ID, a pod)" },
  { key: 'share.pid', type: 'uint', readBy: 'helper', description: 'run: the process whose namespaces the share entries name; joined through its pidfd' },
  { key: 'share.start_time', type: 'string', readBy: 'helper', description: "run: that process's start time (field 22 of /proc/<pid>/stat): a reused pid is refused" },
  { key: 'join.pid', type: 'uint', readBy: 'helper', description: "exec: the container's main process (its pidfd comes as fd 4)" },
  { key: 'tty', type: 'bool', readBy: 'helper', description: 'a pseudo-terminal is the stdio and controlling terminal' },
  { key: 'tty.console', type: 'bool', readBy: 'helper', description: "the terminal is the container's /dev/console too" },
  { key: 'tty.columns', type: 'uint', readBy: 'helper', description: "the terminal's width" },
  { key: 'tty.rows', type: 'uint', readBy: 'helper', description: "the terminal's height" },
  { key: 'test.pause', type: 'string', readBy: 'helper', description: 'crash tests: the step at which the helper stops' },
  { key: 'test.pause_file', type: 'string', readBy: 'helper', description: 'crash tests: where it writes that it stopped' },
  { key: 'phase_trace', type: 'bool', readBy: 'helper', description: "the opt-in phase trace: the helper marks its own steps and sends them before its report" },
  { key: 'start.fifo', type: 'string', readBy: 'helper', description: 'create(): the FIFO the first process waits at until start()' },
  { key: 'late.gate', type: 'uint', readBy: 'helper', description: 'a pool member: the index among the owner fds of the socket where its first process waits, after its root and loopback, for argv, env, cwd, user, tty and stdio' },
  { key: 'detach', type: 'bool', readBy: 'monitor', description: 'the helper stays as the monitor of a detached container' },
  { key: 'state.dir', type: 'string', readBy: 'monitor', description: "the container's state directory, where the monitor writes run.json" },
  { key: 'log.path', type: 'string', readBy: 'monitor', description: 'the log the monitor appends output frames to' },
  { key: 'log.max_size', type: 'uint64', readBy: 'monitor', description: 'the log is rotated past this many bytes' },
  { key: 'log.max_files', type: 'uint', readBy: 'monitor', description: 'the log and at most this many less one older ones are kept' },
  { key: 'restart.policy', type: 'string', values: ['no', 'always', 'unless-stopped', 'on-failure'], readBy: 'monitor', description: 'when the monitor restarts the container' },
  { key: 'restart.max', type: 'uint', readBy: 'monitor', description: 'on-failure: at most this many restarts; 0: no limit' },
  { key: 'cgroup.dir', type: 'string', repeated: true, readBy: 'monitor', description: "a cgroup directory of the container, removed when it stops for good" },
  { key: 'network.attachment', type: 'string', repeated: true, readBy: 'monitor', description: 'a network attachment record (protocol/network-attachment.ts): DEL when the container stops for good, DEL and ADD around each restart' },
  { key: 'network.netns', type: 'string', repeated: true, readBy: 'monitor', description: "where the container's network namespace is pinned (bind mount) from ADD to DEL; one per attachment, in order" },
  { key: 'network.dir', type: 'string', readBy: 'monitor', description: "a detached container: the data root's networks directory, where a restart finds the container's connect()ed attachments and the members' hosts files" },
  { key: 'network.container', type: 'string', readBy: 'monitor', description: "with network.dir: the container's id, as its attachment records and hosts lines name it" },
  { key: 'remove.on_exit', type: 'bool', readBy: 'monitor', description: 'run -d --rm: once the container stops for good, the monitor removes its state directory and writable layer' },
  { key: 'remove.layer_dir', type: 'string', readBy: 'monitor', description: "with remove.on_exit: the writable layer's directory (<data root>/containers/<id>), removed with its record <id>.json" },
  { key: 'health.plan', type: 'hex', readBy: 'monitor', description: "the health check's exec plan (its join.pid replaced by each run's main process); none: no checks" },
  { key: 'health.interval', type: 'uint', readBy: 'monitor', description: 'ms before the first check of a run and between the end of one check and the next' },
  { key: 'health.timeout', type: 'uint', readBy: 'monitor', description: 'ms a check may run before it is killed and counts as a failure' },
  { key: 'health.retries', type: 'uint', readBy: 'monitor', description: 'consecutive failures that make the container unhealthy' },
  { key: 'health.start_period', type: 'uint', readBy: 'monitor', description: "ms from a run's start in which failures do not count" },
];
