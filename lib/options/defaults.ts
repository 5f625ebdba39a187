/**
 * The defaults a container gets, as Docker and runc give them. These are facts
 * of those runtimes' behaviour, kept here as data.
 */
import type { CapabilityName } from './types';

/** Docker's default capability set for a container's root. */
export const DEFAULT_CAPABILITIES: readonly `CAP_${CapabilityName}`[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability the kernel headers of Linux 6.x name (the `Capability` type is made of these). */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Paths runc masks by default: files get /dev/null over them, directories an empty tmpfs. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths runc makes read-only by default. */
export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Podman's default pids limit: a fork bomb stops there instead of filling the host's pid table. */
export const DEFAULT_PIDS_LIMIT = 2048;

/**
 * The size of each tmpfs the runtime mounts on its own (by default the kernel gives each
 * half of RAM): 64 MiB as Docker's /dev/shm for the small ones, 1 GiB for the temporary
 * directories. The `tmpfsSizes` option or a mount of the caller's own at the path overrides it.
 */
export const DEFAULT_TMPFS_SIZES: Readonly<Record<string, number>> = {
  '/dev/shm': 64 * 1024 ** 2,
  '/run': 64 * 1024 ** 2,
  '/var/run': 64 * 1024 ** 2,
  '/tmp': 1024 ** 3,
  '/var/tmp': 1024 ** 3,
};

/** A detached container's log, as docker's json-file driver is often set: 3 files of 10 MiB. */
export const DEFAULT_LOG_MAX_SIZE = '10m';
export const DEFAULT_LOG_MAX_FILES = 3;
