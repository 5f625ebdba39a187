/**
 * The CLI's foreground run without --rm, as docker's: once its program has exited, the
 * container stays, stopped, for `list`, `inspect`, `commit`, `start` and `delete`, its writable
 * layer and image record with it. It reuses what a stopped detached container is: a state
 * directory whose run.json records the exit, no cgroup, no owner. Only the mark differs
 * (StateRecord.kept): a container that belonged to a Node process and has no owner any more
 * would otherwise be abandoned, and swept. A library container is never kept: destroy() ends it.
 */
import { ownedDirectories } from './exit-cleanup';
import type { ContainerContext } from './context';

/**
 * Hands the stopped container over to the state root: its exit is recorded (spawnMain's
 * 'exit' handler), its cgroups are removed here, then it is marked kept and let go of.
 * Resolves to false when there is nothing to keep (never made, or destroyed meanwhile).
 */
export async function keepStopped(context: ContainerContext): Promise<boolean> {
  const { main, directory, record } = context;
  if (!main || !directory || !record || context.destroyed || context.origin.kind !== 'owned') return false;
  await main.wait().catch(() => undefined);
  // Execs end with PID 1's namespace; the cgroup goes once they are reaped.
  await Promise.all([...context.execs].map((p) => p.wait().catch(() => undefined)));
  await context.releaseCgroup();
  if (!directory.exists()) return false;
  record.kept = true;
  directory.writeState(record);
  // From here the directory outlives this process: not removed at its exit, owned by nobody.
  ownedDirectories.delete(directory);
  directory.releaseOwnership();
  return true;
}
