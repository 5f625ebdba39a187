/**
 * stop(), as `docker stop`: the signal (SIGTERM) to the main process, then SIGKILL to all of
 * the container after `timeout` seconds. No restart follows.
 */
import { fail } from '../options/option-error';
import { toSignalNumber } from '../process/signals';
import type { StopOptions } from '../state/types';
import type { ContainerContext } from './context';
import { monitorFinished } from './monitor';

export async function stop(context: ContainerContext, options?: StopOptions): Promise<void> {
  // The container's own --stop-timeout and --stop-signal, unless this call says otherwise.
  const timeout = options?.timeout ?? context.config.lifecycle.stopTimeout;
  if (typeof timeout !== 'number' || !(timeout >= 0)) fail('timeout', 'expected a number of seconds, 0 or more');
  const signal = toSignalNumber(options?.signal, context.config.lifecycle.stopSignal);
  context.directory?.requestStop();
  const main = context.main;
  if (!main) return;
  await main.started.catch(() => undefined);
  if (!main.running) return;
  main.kill(signal);
  const exited = main.wait().then(() => true, () => true);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeout * 1000)));
  const inTime = await Promise.race([exited, late]);
  // A container that stopped in time must not keep Node running until the grace period ends.
  clearTimeout(timer);
  if (!inTime) {
    if (context.cgroup) context.cgroup.signalAll(9);
    else main.kill(9);
    await exited;
  }
  await monitorFinished(context.directory, context.detach);
}
