/** state() and logs(): what the state directory and the kernel say of the container now. */
import { ContainerStateError } from '../errors/errors';
import { observe } from '../state/observe';
import { readLog } from '../state/log-file';
import type { ContainerState, LogOptions, LogRecord } from '../state/types';
import type { ContainerContext } from './context';
import { canObserve, madeDirectory } from './status';
import { recordedHealth } from '../health/health-file';

/** The OCI state, read now from the kernel and the state directory. */
export async function state(context: ContainerContext): Promise<ContainerState> {
  const directory = canObserve(context);
  const observed = observe(directory).state;
  const health = await recordedHealth(directory);
  return health ? { ...observed, health } : observed;
}

/**
 * A detached container's output, as its monitor logged it; with follow, what comes
 * later too, until the container has stopped for good.
 */
export function logs(context: ContainerContext, options?: LogOptions): AsyncIterable<LogRecord> {
  const directory = madeDirectory(context, '');
  if (!context.detach) {
    throw new ContainerStateError(`container ${context.id} is not detached: its output went to the stdio it was given, not to a log`);
  }
  return readLog(directory.logPath, options ?? {}, () => {
    try {
      const observed = observe(directory);
      return observed.state.status === 'stopped' && !observed.monitor;
    } catch {
      return true;
    }
  });
}
