/**
 * Runs a parsed lifecycle command. Loaded by main.ts only for these commands, so that parsing
 * and --help never load the native addon.
 */
import type { LifecycleCommand } from '../parsed';
import { defaultIO, type CommandIO } from './common';
import { commitCommand } from './commit';
import { cpCommand } from './cp';
import { deleteCommand } from './delete';
import { execCommand } from './exec';
import { killCommand, stopCommand } from './kill-stop';
import { listCommand } from './list';
import { logsCommand } from './logs';
import { pauseResumeCommand } from './pause-resume';
import { portCommand } from './port';
import { psCommand } from './ps';
import { topCommand } from './top';
import { waitCommand } from './wait';
import { infoCommand } from './info';
import { statsCommand } from './stats';
import { startCommand } from './start';
import { stateCommand } from './state';

export { createCommand } from './create';

/** Resolves to the CLI's exit status; failures are reported on stderr, never thrown. */
export function runLifecycleCommand(cmd: LifecycleCommand, io: Partial<CommandIO> = {}): Promise<number> {
  const out = defaultIO(io);
  switch (cmd.kind) {
    case 'start':
      return startCommand(cmd, out);
    case 'exec':
      return execCommand(cmd, out);
    case 'list':
      return listCommand(cmd, out);
    case 'ps':
      return psCommand(cmd, out);
    case 'top':
      return topCommand(cmd, out);
    case 'wait':
      return waitCommand(cmd, out);
    case 'info':
      return infoCommand(cmd, out);
    case 'stats':
      return statsCommand(cmd, out);
    case 'state':
      return stateCommand(cmd, out);
    case 'port':
      return portCommand(cmd, out);
    case 'logs':
      return logsCommand(cmd, out);
    case 'kill':
      return killCommand(cmd, out);
    case 'stop':
      return stopCommand(cmd, out);
    case 'pause':
    case 'resume':
      return pauseResumeCommand(cmd, out);
    case 'delete':
      return deleteCommand(cmd, out);
    case 'commit':
      return commitCommand(cmd, out);
    case 'cp':
      return cpCommand(cmd, out);
  }
}
