/** Seccomp profile shapes: the OCI runtime-spec `linux.seccomp` object and Docker/Podman's JSON profile. */

export type SeccompActionName =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompArchName = 'SCMP_ARCH_X86_64' | 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32' | 'SCMP_ARCH_AARCH64' | 'SCMP_ARCH_ARM' | string;

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

/** One argument comparison. For SCMP_CMP_MASKED_EQ, `value` is the mask and `valueTwo` the datum (as libseccomp). */
export interface SeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: SeccompOperator;
}

export interface OciSeccompSyscall {
  names: string[];
  action: SeccompActionName;
  errnoRet?: number;
  args?: SeccompArg[];
}

/** The OCI runtime-spec `linux.seccomp` object. */
export interface OciLinuxSeccomp {
  defaultAction: SeccompActionName;
  defaultErrnoRet?: number;
  architectures?: SeccompArchName[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSeccompSyscall[];
}

export interface DockerSeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface DockerSeccompSyscall {
  name?: string;
  names?: string[];
  action: SeccompActionName;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: DockerSeccompFilter;
  excludes?: DockerSeccompFilter;
}

/** Docker's / Podman's seccomp.json format. */
export interface DockerSeccompProfile {
  defaultAction: SeccompActionName;
  defaultErrnoRet?: number;
  architectures?: SeccompArchName[];
  archMap?: { architecture: SeccompArchName; subArchitectures?: SeccompArchName[] | null }[] | null;
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSeccompSyscall[] | null;
}

export type SeccompOption = 'default' | 'unconfined' | OciLinuxSeccomp | DockerSeccompProfile;

export interface CompileContext {
  /** The native architecture (process.arch x64 → x86_64, arm64 → aarch64). */
  arch: 'x86_64' | 'aarch64';
  /** The container's kept capabilities, 'CAP_CHOWN' style (Docker includes/excludes by caps). */
  capabilities: string[];
  /** For minKernel includes. */
  kernel: { major: number; minor: number };
}

export interface CompiledSeccomp {
  /** struct sock_filter[]: per insn u16 code, u8 jt, u8 jf, u32 k, little-endian, 8 bytes each. */
  program: Buffer;
  /** Some rule uses SCMP_ACT_NOTIFY (the loader then asks for a listener fd). */
  notifies: boolean;
}
