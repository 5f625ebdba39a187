/**
 * What a container's state directory keeps of the options it was made with (config.json):
 * enough to make it again with Container.restore() or to find its defaults (user, env,
 * capabilities, seccomp) when another process execs into it. Only JSON survives: a seccomp
 * notify handler (a function of the process that made it) is left out.
 */
import type { ContainerOptions, ProcessOptions } from '../options/types';
import type { SavedConfig } from '../state/container-directory';
import { savedSharing } from '../options/namespace-sharing';

function withoutNotify(seccomp: ContainerOptions['seccomp']): ContainerOptions['seccomp'] {
  if (seccomp && typeof seccomp === 'object' && 'notify' in seccomp) {
    const { notify: _handler, ...rest } = seccomp as { notify?: unknown; profile?: unknown };
    return (rest.profile ?? 'default') as ContainerOptions['seccomp'];
  }
  return seccomp;
}

export function savedConfig(options: ContainerOptions, argv: string[], process: ProcessOptions | undefined, rootfs: string | null): SavedConfig {
  const kept: ContainerOptions = { ...options, seccomp: withoutNotify(options.seccomp) };
  // Absolute, so that restore from another working directory finds the same rootfs.
  if (rootfs !== null) kept.rootfs = rootfs;
  // The store by its root: an ImageStore object does not survive JSON.
  if (typeof options.imageStore === 'object') kept.imageStore = options.imageStore.dataRoot;
  Object.assign(kept, savedSharing(options));
  const { env, cwd, user } = process ?? {};
  return JSON.parse(JSON.stringify({ options: kept, argv, process: { env, cwd, user } })) as SavedConfig;
}
