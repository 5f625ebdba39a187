/** state() and logs(): what the state directory and the kernel say of the container now. */
import { ContainerLogsError, ContainerStateError } from '../errors/errors';
import { checkLogOptions, selectRecords } from '../state/log-select';
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
 * The container's output: a detached container's as its monitor logged it, another's as Node
 * read it from its main process's 'pipe' stdio; with follow, what comes later too, until the
 * container has stopped for good (its output has closed).
 */
export function logs(context: ContainerContext, options?: LogOptions): AsyncIterable<LogRecord> {
  const checked = checkLogOptions(options);
  if (!context.detach) {
    const recorded = context.outputLog;
    if (recorded) return selectRecords(recorded.batches(checked.follow === true, checked.signal), checked);
    if (!context.main && context.origin.kind === 'owned') {
      throw new ContainerStateError(`container ${context.id} has no main process yet; call spawn() or create() first`);
    }
    throw new ContainerLogsError(
      context.origin.kind === 'attached'
        ? `container ${context.id} is not detached: its output went to the stdio its maker gave it, and only that process has it`
        : `container ${context.id}: its output went straight to the stdio it was given ('inherit', 'ignore' or an fd), not through Node: give stdio 'pipe' to have logs()`,
    );
  }
  const directory = madeDirectory(context, '');
  return readLog(directory.logPath, checked, () => {
    try {
      const observed = observe(directory);
      return observed.state.status === 'stopped' && !observed.monitor;
    } catch {
      return true;
    }
  });
}
