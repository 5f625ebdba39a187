/**
 * Named points of the create transaction where later features plug in their own steps
 * (an image's rootfs, a network, rootless id mapping), instead of growing create.ts. The
 * registry is internal, and empty today. A hook that makes something pushes its undo on the
 * transaction's list: a later failure unmakes it with the rest.
 */
import type { ContainerConfig } from '../options/validate';
import type { ContainerContext } from './context';
import type { UndoList } from './undo-list';

export type CreateHookPoint =
  /**
   * The state directory and cgroup exist and the config is final (its id block filled in);
   * the helper, which makes the namespaces, has not been asked yet.
   */
  | 'beforeNamespaces'
  /**
   * The helper reported: the namespaces and the container's process exist (report.pid).
   * After create() the program still waits at its start FIFO; after spawn() it already runs.
   */
  | 'afterNamespaces'
  /** start() of a created container, just before the program is let go. */
  | 'beforeStart'
  /**
   * The container stopped for good in this process's hands (not detached): its main process
   * exited, or destroy() ran. Run once more by destroy(), which waits for it: hooks are idempotent.
   */
  | 'stopped';

export interface CreateStep {
  readonly context: ContainerContext;
  readonly config: ContainerConfig;
  readonly undo: UndoList;
  /** The container's process on the host, from 'afterNamespaces' on. */
  readonly pid?: number;
  /**
   * Fds whose flocks say "this container is owned": a detached container's monitor is handed
   * them with the others ('beforeNamespaces' hooks push theirs).
   */
  readonly ownerFds?: number[];
}

export type CreateHook = (step: CreateStep) => void | Promise<void>;

const hooks: Record<CreateHookPoint, CreateHook[]> = { beforeNamespaces: [], afterNamespaces: [], beforeStart: [], stopped: [] };

/** For features inside ts-container only: not part of the public API. */
export function registerCreateHook(point: CreateHookPoint, hook: CreateHook): void {
  hooks[point].push(hook);
}

/**
 * Runs a point's hooks in the order they were registered. With none (today) it returns no
 * promise: awaiting it costs a microtask, no I/O, and the steps around the point keep their timing.
 */
export function runCreateHooks(point: CreateHookPoint, step: CreateStep): Promise<void> | undefined {
  const registered = hooks[point];
  if (registered.length === 0) return undefined;
  return (async () => {
    for (const hook of registered) await hook(step);
  })();
}
