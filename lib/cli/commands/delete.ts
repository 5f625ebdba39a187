/**
 * `ts-container delete [-f] ID...`: remove containers and all they left (processes, cgroup,
 * state directory). A container that still runs is refused unless -f, as runc refuses it:
 * deleting is for what has ended, killing is a decision the caller makes explicitly.
 */
import { Container } from '../../container/container';
import { ContainerStateError } from '../../errors/errors';
import type { ContainerStatus } from '../../state/types';
import type { DeleteCommand } from '../parsed';
import { forEachId, openContainer, type CommandIO } from './common';

/** States whose processes would die with the delete. A created container has not run yet: runc deletes it. */
const LIVE: ReadonlySet<ContainerStatus> = new Set(['creating', 'running', 'paused']);

export function deleteCommand(cmd: DeleteCommand, io: CommandIO): Promise<number> {
  return forEachId(io, cmd.ids, async (id) => {
    if (cmd.force) {
      // Whatever its state: even one whose state files cannot be read goes.
      await Container.remove(id, { stateRoot: cmd.stateRoot, force: true });
    } else {
      const container = await openContainer(id, cmd.stateRoot);
      const { status } = await container.state();
      if (LIVE.has(status)) {
        throw new ContainerStateError(`cannot delete container ${id}: it is ${status} (stop it first, or use delete -f)`);
      }
      await container.destroy();
    }
    io.stdout.write(`${id}\n`);
  });
}
