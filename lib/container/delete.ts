/**
 * destroy() and Container.remove(): a container ends with nothing left: its processes killed
 * and reaped, their stdio closed, its cgroups and state directory removed.
 */
import { ContainerNotFoundError, ContainerStateFileError } from '../errors/errors';
import { endCgroupsNamed, isHelperProcess } from '../cgroups/stale-cgroups';
import { ContainerDirectory } from '../state/container-directory';
import { observe } from '../state/observe';
import { isSameProcess } from '../state/process-identity';
import { killAndRemoveCgroups } from '../state/sweep';
import { resolveStateRoot } from '../state/state-root';
import type { StateRootOptions } from '../state/types';
import type { ContainerContext } from './context';
import { attachedContext, existingDirectory } from './attach';
import { monitorFinished, whileMonitorRuns } from './monitor';
import { runCreateHooks } from './create-hooks';
import { UndoList } from './undo-list';
import { phaseTrace } from '../process/phase-trace';

/**
 * Kills whatever still runs, waits until every process is dead, closes their stdio pipes,
 * runs the 'stopped' hooks (networks let go) and frees the id: when it resolves, the id may
 * be used again at once. What only takes time is left to run after it: the state directory,
 * moved away under a hidden name, is emptied a moment later, and the cgroup of a container
 * this process made is removed in the background (a make of the same id waits for it); both
 * finish at Node's exit at the latest, and the sweeps clear what a kill -9 left. Idempotent.
 */
export async function destroy(context: ContainerContext): Promise<void> {
  context.destroyed = true;
  // Only a monitor reads it (restarts): a container that ends with this process has none.
  const ownedHere = context.origin.kind === 'owned' && !context.detach;
  if (!ownedHere) context.directory?.requestStop();
  // Here, whatever its processes leave is killed once they are reaped (whenEmpty below).
  if (!ownedHere) context.cgroup?.signalAll(9);
  const processes = [...(context.main ? [context.main] : []), ...context.execs];
  await Promise.all(
    processes.map(async (p) => {
      p.kill('SIGKILL');
      await p.wait().catch(() => undefined);
    }),
  );
  // Once the container is gone, so are its pipes, even those nobody read.
  for (const p of context.withOpenStdio) p.releaseStdio();
  context.withOpenStdio.clear();
  await monitorFinished(context.directory, context.detach);
  phaseTrace?.mark(context.id, 'destroy: kill, wait');
  if (ownedHere && context.cgroup) {
    // Every process dead is what must hold now; the empty cgroup goes in the background.
    if (!initReaped(context)) await context.cgroup.whenEmpty();
    context.releaseCgroup().catch(() => undefined);
  } else {
    await context.releaseCgroup();
  }
  phaseTrace?.mark(context.id, 'destroy: cgroup removed');
  await runCreateHooks('stopped', { context, config: context.config, undo: new UndoList() });
  const directory = context.directory;
  if (!ownedHere && directory?.exists()) {
    // What another owner (or a monitor that died) left: its processes and cgroups.
    try {
      const observed = observe(directory);
      await killAndRemoveCgroups(observed.record, observed.run);
    } catch {
      // unreadable state: nothing recorded to clean
    }
  }
  phaseTrace?.mark(context.id, 'destroy: stop hooks, leftovers');
  context.removeDirectory(false, true);
  phaseTrace?.mark(context.id, 'destroy: state removed');
  // A removal begun at the program's exit runs on libuv's pool: what it has not removed yet by
  // now is removed here, so that the cgroups are gone when this resolves.
  context.cgroup?.settleRemoval();
}

/**
 * Whether the container's main process has exited and been reaped. It is the init of the
 * container's own PID namespace (never shared), and the kernel reaps that init only once every
 * other process of the namespace is gone, execs and their children too: its cgroup then holds
 * nothing of the container's, and need not be read to know it.
 */
function initReaped(context: ContainerContext): boolean {
  const main = context.main;
  return main !== undefined && (main.exitCode !== null || main.signalCode !== null);
}

/**
 * Deletes a container by id, as get(id).destroy() does. With force, one whose state files
 * cannot be read goes too: what its run record still names (monitor, main process) is
 * killed, its cgroups are found by its name and ended, and its directory removed; and one
 * whose state directory is gone (deleted by hand) is still found and ended by its cgroups' name.
 */
export async function remove(id: string, options?: StateRootOptions & { force?: boolean }): Promise<void> {
  const root = resolveStateRoot(options?.stateRoot);
  const plainId = typeof id === 'string' && id !== '' && !id.startsWith('.') && !id.includes('/');
  if (options?.force && plainId && !new ContainerDirectory(root, id).exists()) {
    if (await endCgroupsNamed(id, undefined, { force: true })) return;
    throw new ContainerNotFoundError(id, root);
  }
  const directory = existingDirectory(root, id);
  try {
    await destroy(attachedContext(root, id));
    return;
  } catch (error) {
    if (!(error instanceof ContainerStateFileError) || !options?.force) throw error;
  }
  let run;
  try {
    run = directory.readRun();
  } catch {
    run = undefined;
  }
  // Only a monitor that is ts-container's helper: the record may name any process.
  if (run && isSameProcess(run.monitorPid, run.monitorStartTime) && isHelperProcess(run.monitorPid)) process.kill(run.monitorPid, 'SIGKILL');
  let cgroupParent: string | undefined;
  try {
    cgroupParent = directory.readConfig().options.cgroupParent;
  } catch {
    cgroupParent = undefined;
  }
  await endCgroupsNamed(id, typeof cgroupParent === 'string' ? cgroupParent : undefined, { force: true });
  // Gone before this resolves, as with destroy().
  await whileMonitorRuns(run);
  directory.remove();
}
