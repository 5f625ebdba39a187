import './polyfills';
/**
 * ts-container: Linux containers from Node.js.
 *
 *   import { Container } from 'ts-container';
 *   await using c = new Container({ hostname: 'box' });
 *   const { stdout } = await c.spawn(['hostname']).output();
 */
export { Container } from './container/container';
export { ContainerPool } from './container/pool';
export type { PoolOptions, PoolSpawnOptions, PooledProcess } from './container/pool';
export { ContainerProcess } from './process/container-process';
export type { OutputOptions } from './process/container-process';
export type { CopyInSource } from './container/copy';
export type { ContainerProcessEvents } from './process/stdio-types';
export {
  ContainerSetupError,
  ContainerStoppedError,
  ContainerStateError,
  ContainerCopyError,
  ContainerLogsError,
  ContainerExistsError,
  ContainerNotFoundError,
  ContainerStateFileError,
  ContainerStateIOError,
  UntrustedStateRootError,
  ImageNotFoundError,
  ImageInUseError,
  RegistryError,
  ImageArchiveError,
  PodNotFoundError,
  PodExistsError,
  PodInUseError,
  NetworkNotFoundError,
  NetworkExistsError,
  NetworkInUseError,
  SubnetError,
  CniPluginError,
  VolumeNotFoundError,
  VolumeInUseError,
  StackFileError,
  StackDependencyError,
  WaitForTimeoutError,
  type SpawnError,
} from './errors/errors';
export type { HealthcheckOptions, HealthcheckTest } from './health/healthcheck-options';
export type { ContainerHealth, HealthLogEntry, HealthStatus } from './health/health-state';
export type { WaitForCondition } from './health/wait-for';
export { Network } from './networks/network';
export { Volume, type VolumeOptions } from './volumes/volume';
export { Stack } from './stacks/stack';
export type { StackOptions, StackUpOptions, StackDownOptions, StackContainer, StackLogRecord } from './stacks/stack';
export type * from './stacks/description';
export type { NetworkCreateOptions, NetworkDataRootOptions } from './networks/network';
export type { NetworkInterfaceInfo } from './networks/cni/result';
export type {
  ContainerState,
  ContainerStatus,
  ContainerListEntry,
  RestartPolicy,
  LogRecord,
  LogOptions,
  StopOptions,
  StateRootOptions,
} from './state/types';
export type { CgroupStats } from './cgroups/stats';
export { CgroupError } from './cgroups/container-cgroup';
export type { SeccompOption, OciLinuxSeccomp, DockerSeccompProfile } from './seccomp/types';
export type {
  SeccompNotification,
  SeccompDecision,
  SeccompNotifyHandler,
  SeccompNotifyOptions,
} from './seccomp-notify/types';
export { ImageStore } from './images/image-store';
export { Pod, type PodOptions, type PodLookupOptions, type PodRemoveOptions } from './pods/pod';
export type {
  Image,
  ImageLayer,
  ImageStoreOptions,
  ImportOptions,
  ExportOptions,
  ArchiveFormat,
  RemoveOptions,
  RemoveResult,
  PruneResult,
} from './images/image-store';
export type { ImageRuntimeConfig } from './images/manifest';
export type { RegistriesConfig, RegistriesOption } from './images/registries-config';
export type { ImagePullOptions, ImagePushOptions } from './images/store-registry';
export type { PullProgress } from './images/pull';
export type { PushProgress } from './images/push';
export { UntrustedDataRootError } from './images/data-root';
export { DEFAULT_PROFILE as DEFAULT_SECCOMP_PROFILE } from './seccomp';
export * from './options/types';
export { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from './options/defaults';
