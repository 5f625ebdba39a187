/**
 * `ts-container create` and `ts-container run -d`: make a detached container, which outlives
 * this process under its monitor, print its id and exit. create leaves the program waiting for
 * `start`; run -d starts it too, so that its failure to exec is reported here (127, 126).
 */
import { Container, contextOf } from '../../container/container';
import { removeOnExit } from '../../container/auto-remove';
import type { RunCommand } from '../parsed';
import { describeFailure, programName, pullIfNeeded } from '../run-command';
import { defaultIO, report, type CommandIO } from './common';
import { reportStartFailure } from './start';

export async function createCommand(cmd: RunCommand, ioOverrides: Partial<CommandIO> = {}): Promise<number> {
  const io = defaultIO(ioOverrides);
  const program = programName(cmd);
  let container: Container;
  try {
    await pullIfNeeded(cmd, io);
    container = new Container(cmd.options);
    // -d --rm: its monitor removes it once it has stopped for good.
    if (cmd.rm === true) removeOnExit(contextOf(container));
  } catch (err) {
    const f = describeFailure(err, program);
    report(io, f.message);
    return f.code;
  }
  try {
    // A failed create removes what it made itself; it is never destroyed from here, since the
    // failure may be that another container already has this id.
    await container.create(cmd.argv);
  } catch (err) {
    return reportStartFailure(io, container.id, program, err);
  }
  if (cmd.kind === 'run') {
    try {
      await container.start();
    } catch (err) {
      const code = reportStartFailure(io, container.id, program, err);
      // A run that failed leaves nothing for `delete`, as a foreground run does not.
      await container.destroy().catch((destroyErr: unknown) => {
        report(io, `cleaning up container ${container.id} failed: ${destroyErr instanceof Error ? destroyErr.message : String(destroyErr)}`);
      });
      return code;
    }
  }
  io.stdout.write(`${container.id}\n`);
  return 0;
}
