/**
 * `ts-container start ID`: let a created container's program run; run a stopped container again
 * from the options it was made with (docker start's meaning, which runc start does not have).
 */
import { Container } from '../../container/container';
import { ContainerStateError } from '../../errors/errors';
import type { StartCommand } from '../parsed';
import { describeFailure } from '../run-command';
import { openContainer, report, reportFailure, type CommandIO } from './common';

export async function startCommand(cmd: StartCommand, io: CommandIO): Promise<number> {
  let program = '';
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    const state = await container.state();
    program = state.command[0] ?? '';
    switch (state.status) {
      case 'created':
        await container.start();
        break;
      case 'stopped':
        await Container.restore(cmd.id, cmd.stateRoot === undefined ? {} : { stateRoot: cmd.stateRoot });
        break;
      case 'running':
        // Already what was asked for: docker start succeeds too.
        break;
      case 'paused':
        throw new ContainerStateError(`cannot start container ${cmd.id}: it is paused (use 'ts-container resume ${cmd.id}')`);
      case 'creating':
        throw new ContainerStateError(`cannot start container ${cmd.id}: it is still being created`);
    }
    io.stdout.write(`${cmd.id}\n`);
    return 0;
  } catch (err) {
    return reportStartFailure(io, cmd.id, program, err);
  }
}

/**
 * A failure to start a program: 127 when it is not found, 126 when it cannot be executed, as
 * run reports them; an unknown container or a wrong state as every lifecycle command does.
 */
export function reportStartFailure(io: CommandIO, id: string, program: string, err: unknown): number {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^E(NO)?CONTAINER/.test(code)) return reportFailure(io, id, err);
  const f = describeFailure(err, program);
  report(io, f.message);
  return f.code;
}
