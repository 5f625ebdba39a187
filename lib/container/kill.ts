/**
 * kill(): a signal (default SIGKILL, as `docker kill`) to every process in the container's
 * cgroup. Like a stop, it keeps the restart policy from starting the container again.
 */
import { toSignalNumber } from '../process/signals';
import type { ContainerContext } from './context';
import { canKill } from './status';

export function kill(context: ContainerContext, signal: NodeJS.Signals | number = 'SIGKILL'): boolean {
  const number = toSignalNumber(signal, 9);
  context.directory?.requestStop();
  const cgroup = canKill(context);
  const main = context.main;
  if (!cgroup || !main) return main ? main.kill(number) : false;
  // The cgroup holds the main process too: one signal each, the main one included.
  cgroup.signalAll(number);
  main.killed = true;
  return true;
}
