/**
 * The mark ts-container puts on every cgroup it makes: an extended attribute on the cgroup's
 * directory (cgroupfs keeps xattrs on v1 and v2 alike). The sweep and every removal touch only
 * marked cgroups, so that a parent shared with other programs (a `cgroupParent` such as
 * /system.slice) never has a foreign cgroup killed or removed. Root marks in the `trusted`
 * namespace, which only a process with CAP_SYS_ADMIN can write: a container or another user
 * cannot forge the mark on a cgroup of its own. Other users mark in `user`, on the cgroups
 * delegated to them.
 */
import { native } from '../native/binding';

/**
 * What a marked cgroup is: a container's own, a parent the library made, or the default
 * parent; 'container-removing' is a container's own whose container was destroyed and whose
 * removal (its owner's, in the background) is under way: a make of the same name waits for it.
 */
export type CgroupMarkKind = 'container' | 'container-removing' | 'parent' | 'default-parent';

const KINDS: readonly string[] = ['container', 'container-removing', 'parent', 'default-parent'];

/** Whether the mark is a container's own cgroup's (being removed or not). */
export function isContainerMark(kind: CgroupMarkKind | null): boolean {
  return kind === 'container' || kind === 'container-removing';
}

/** The extended attribute the mark is kept in. */
export function markName(): string {
  return process.getuid?.() === 0 ? 'trusted.ts-container' : 'user.ts-container';
}

/** Marks a cgroup (an open fd of its directory, or its path) as made by ts-container. */
export function markCgroup(target: number | string, kind: CgroupMarkKind): void {
  native().setXattr(target, markName(), kind);
}

/** The cgroup's mark, or null for a cgroup ts-container did not make (or that is gone). */
export function cgroupMark(target: number | string): CgroupMarkKind | null {
  let value: string | null;
  try {
    value = native().getXattr(target, markName());
  } catch {
    return null;
  }
  return value !== null && KINDS.includes(value) ? (value as CgroupMarkKind) : null;
}
