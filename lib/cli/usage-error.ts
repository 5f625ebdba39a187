/**
 * The error parsing throws for a bad command line, and the names of the help texts it can
 * point to. In its own file so that the parser (program.ts), the declarations it is made from
 * (definitions/) and the library's checks (library-errors.ts) share it without a cycle.
 */

/** The commands of `ts-container`, each with its own help text. */
export const COMMAND_NAMES = [
  'run', 'create', 'start', 'exec', 'list', 'ps', 'top', 'stats', 'state', 'logs', 'kill', 'stop', 'pause', 'resume', 'delete',
  'wait', 'info',
  'pull', 'images', 'rmi', 'tag', 'save', 'load', 'push', 'inspect',
  'commit', 'network', 'port', 'cp',
  'pod',
] as const;

export type CommandName = (typeof COMMAND_NAMES)[number];

/** Which help text would have helped: the general one, or one command's. */
export type HelpTopic = 'main' | CommandName;

/** A bad command line. `flag` names the offending flag when there is one. */
export class UsageError extends Error {
  readonly flag: string | undefined;
  readonly topic: HelpTopic;
  constructor(message: string, flag?: string, topic: HelpTopic = 'run') {
    super(message);
    this.name = 'UsageError';
    this.flag = flag;
    this.topic = topic;
  }
}
