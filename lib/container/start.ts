/** start(): lets a created container's program run, from this process or any other. */
import { ContainerStoppedError } from '../errors/errors';
import { pauseForTest } from '../state/test-hook';
import type { ContainerContext } from './context';
import { canStart } from './status';
import { openStartGate } from './start-gate';
import { runCreateHooks } from './create-hooks';
import { UndoList } from './undo-list';

export async function start(context: ContainerContext): Promise<void> {
  const directory = await canStart(context);
  const main = context.main;
  const undo = new UndoList();
  try {
    await runCreateHooks('beforeStart', { context, config: context.config, undo, pid: main?.pid });
  } catch (error) {
    await undo.rollback();
    throw error;
  }
  // The program cannot go on before the FIFO is opened: this time is never after its start.
  const startedAt = Date.now();
  const started = await openStartGate(directory.fifoPath, () => main?.running ?? false);
  if (!started) throw new ContainerStoppedError(context.id, 'start');
  // The FIFO is what says "created": it goes first.
  directory.removeStartFifo();
  pauseForTest('start-gate-opened');
  directory.markStarted(startedAt);
  pauseForTest('started');
}
