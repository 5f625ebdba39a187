/**
 * A pod's pause container: a detached container whose only process (the native helper in its
 * pause mode: it sleeps until SIGTERM or SIGINT) holds the pod's network, uts and ipc
 * namespaces, as podman's infra container does. Members join them through its pidfd
 * (lib/container/shared-namespaces.ts). It runs the host's / read-only in a user namespace of
 * its own, so it needs no image, and its monitor outlives the process that made the pod.
 */
import { Container } from '../container/container';
import { helperPath } from '../native/binding';
import { ContainerNotFoundError } from '../errors/errors';
import type { ContainerOptions } from '../options/types';
import type { PodRecord } from './pod-store';

/** The annotation naming the pod on its pause container (seen in `ts-container list`). */
export const POD_ANNOTATION = 'ts-container.pod';

/**
 * The network options of the pause container: it is the pod's one container attached to the
 * pod's network, and the one its ports are published to (lib/networks takes them from here).
 */
function networkOptions(record: PodRecord): Partial<ContainerOptions> {
  if (record.network === null) return {};
  return { network: record.network, ...(record.ports.length > 0 && { ports: record.ports }) } as Partial<ContainerOptions>;
}

export function pauseContainerOptions(record: PodRecord, dataRoot: string, cgroupParent: string | undefined): ContainerOptions {
  return {
    id: record.pause.id,
    stateRoot: record.pause.stateRoot,
    // The pod's: its network is looked up there.
    dataRoot,
    detach: true,
    // The uts namespace's hostname is the pod's name, for every member.
    hostname: record.name,
    annotations: { [POD_ANNOTATION]: record.name },
    ...(cgroupParent === undefined ? {} : { cgroupParent }),
    ...networkOptions(record),
  };
}

/**
 * Where the helper binary is bound inside the pause container. Its own path may not be visible
 * there: a checkout under /tmp or /run sits below the runtime's private tmpfs mounts.
 */
const PAUSE_PROGRAM = '/run/.ts-container-pause';

/** Starts the pause container; rejects, leaving nothing of it, when it cannot. */
export async function startPause(record: PodRecord, dataRoot: string, cgroupParent: string | undefined): Promise<void> {
  const options = pauseContainerOptions(record, dataRoot, cgroupParent);
  options.mounts = [{ type: 'bind', source: helperPath(), target: PAUSE_PROGRAM, readonly: true }];
  const pause = new Container(options);
  await pause.spawn([PAUSE_PROGRAM, 'pause']).started;
}

/** Ends and removes the pause container, whatever state it is in; gone already is fine. */
export async function removePause(record: PodRecord): Promise<void> {
  try {
    await Container.remove(record.pause.id, { stateRoot: record.pause.stateRoot, force: true });
  } catch (error) {
    if (!(error instanceof ContainerNotFoundError)) throw error;
  }
}
