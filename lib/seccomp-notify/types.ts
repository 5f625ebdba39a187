/** Seccomp user notification, as the `seccomp.notify` option hands it to a callback. */

export interface SeccompNotification {
  /** Host pid of the process that made the system call. */
  pid: number;
  /** The system call's name, when this architecture's table has it. */
  syscall: string | undefined;
  nr: number;
  /** AUDIT_ARCH_* of the call. */
  arch: number;
  args: bigint[];
  /**
   * Reads a NUL-terminated string at `address` in the process's memory. Informational only:
   * the process (or another thread of it) can change that memory after the read, so a
   * decision that depends on it is not a security boundary.
   */
  readString(address: bigint, maxBytes?: number): string;
  /** Reads a NULL-terminated array of string pointers (an argv or envp). */
  readStringArray(address: bigint, maxEntries?: number): string[];
}

export type SeccompDecision =
  | { action: 'continue' }
  | { action: 'errno'; errno: number }
  | { action: 'value'; value: number | bigint };

/** Returns (or resolves to) the decision; undefined means continue. */
export type SeccompNotifyHandler = (
  notification: SeccompNotification,
) => SeccompDecision | void | Promise<SeccompDecision | void>;

export interface SeccompNotifyOptions {
  /** System calls to hand to the handler (their rule becomes SCMP_ACT_NOTIFY). */
  syscalls: string[];
  handler: SeccompNotifyHandler;
}
