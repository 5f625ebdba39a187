/**
 * The link between a pod and its members: the pause container's live process, which a member
 * joins, and the member files that say which containers joined (PodInUseError while one runs).
 * Kept apart from pod.ts, which makes containers: the create transaction calls in here.
 */
import * as fs from 'node:fs';
import { ContainerDirectory } from '../state/container-directory';
import { observe } from '../state/observe';
import { verifyStateRoot } from '../state/state-root';
import { PodNotFoundError } from '../errors/errors';
import type { PodMembership } from '../options/namespace-sharing';
import { PodStore, type PodMemberEntry, type PodRecord } from './pod-store';

export interface LiveProcess {
  pid: number;
  startTime: string;
}

/** The live main process of a container of a state root, or undefined when it is stopped or gone. */
export function liveMainProcess(stateRoot: string, id: string): LiveProcess | undefined {
  const directory = new ContainerDirectory(stateRoot, id);
  try {
    if (!verifyStateRoot(stateRoot, false) || !directory.exists()) return undefined;
    return observe(directory).main;
  } catch {
    return undefined;
  }
}

/** The pause container's live process, or undefined when it has stopped or is gone. */
export function livePause(record: PodRecord): LiveProcess | undefined {
  return liveMainProcess(record.pause.stateRoot, record.pause.id);
}

/** The network namespace of a live process ("net:[4026531840]"), or undefined. */
export function networkNamespaceOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/**
 * The members that run in the pod's namespaces now. Member files of containers that stopped,
 * went, or stand elsewhere (an id used again) are removed; call it holding the store's lock.
 */
export function runningMembers(store: PodStore, record: PodRecord): PodMemberEntry[] {
  const pause = livePause(record);
  const podNamespace = pause ? networkNamespaceOf(pause.pid) : undefined;
  const running: PodMemberEntry[] = [];
  for (const member of store.members(record.name)) {
    const main = liveMainProcess(member.stateRoot, member.id);
    const inPod = main !== undefined && (podNamespace === undefined || networkNamespaceOf(main.pid) === podNamespace);
    if (inPod) running.push(member);
    else store.removeMember(record.name, member.id);
  }
  return running;
}

/**
 * A container joins the pod: the pause process it will join (the helper checks that it is
 * still that process), its member file written. `undo` removes the file if the create fails.
 */
export async function joinPod(pod: PodMembership, member: PodMemberEntry, undo: (action: () => void) => void): Promise<{ pause: LiveProcess; record: PodRecord }> {
  const store = PodStore.open(pod.dataRoot, false);
  if (!store) throw new PodNotFoundError(pod.name, pod.dataRoot);
  return store.withLock(async () => {
    const record = store.read(pod.name);
    if (!record || record.phase !== 'ready') throw new PodNotFoundError(pod.name, pod.dataRoot);
    const pause = livePause(record);
    if (!pause) throw new PodNotFoundError(pod.name, pod.dataRoot, 'its pause process has exited; remove it and create it again');
    store.addMember(pod.name, member);
    undo(() => store.removeMember(pod.name, member.id));
    return { pause, record };
  });
}
