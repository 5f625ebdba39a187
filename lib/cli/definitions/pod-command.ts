/**
 * `ts-container pod create|ls|rm`, as podman's pod commands: one command word whose first
 * argument is the action. A pod (lib/pods) is kept in the data root (global --data-root DIR);
 * its pause container in the state directory (global --root DIR).
 */
import { UsageError } from '../usage-error';
import type { PodAction, PodCommand } from '../parsed';
import type { AppliedFlags } from './applied-flags';
import type { CommandDef } from './commands';
import type { FlagDef } from './flag';
import * as v from './values';

const ACTIONS: readonly PodAction[] = ['create', 'ls', 'rm'];
/** podman's spellings of the same actions. */
const ACTION_ALIASES: Readonly<Record<string, PodAction>> = { list: 'ls', ps: 'ls', remove: 'rm' };

function usage(message: string, flag?: string): never {
  throw new UsageError(`pod: ${message}`, flag, 'pod');
}

/** Which flags each action takes: the rest are refused by name. */
const FLAGS_OF: Readonly<Record<PodAction, readonly string[]>> = {
  create: ['network', 'publish'],
  ls: ['json', 'quiet'],
  rm: ['force'],
};

export const POD_FLAGS: readonly FlagDef[] = [
  { names: ['--network'], value: 'NAME', help: 'create: attach the pod to network NAME (default: none, only lo)', target: 'cli:network', convert: v.text },
  {
    names: ['-p', '--publish'],
    value: '[IP:]HOST:CONTAINER[/udp]',
    help: 'create: publish a port of the pod on the host (repeatable; needs --network)',
    target: 'cli:publish[]',
    convert: v.publishSpec,
  },
  { names: ['-f', '--force'], help: 'rm: kill and remove the containers of the pod that still run', target: 'cli:force' },
  { names: ['--json'], help: 'ls: print the pods as a JSON array', target: 'cli:json' },
  { names: ['-q', '--quiet'], help: 'ls: print only the names', target: 'cli:quiet' },
];

function checkFlagsFor(action: PodAction, flags: AppliedFlags): void {
  for (const [key, value] of Object.entries(flags.cli)) {
    if (value !== undefined && !FLAGS_OF[action].includes(key)) usage(`${action} takes no --${key}`, `--${key}`);
  }
}

export function buildPodCommand(flags: AppliedFlags, given: string[]): PodCommand {
  const [word, ...names] = given;
  if (word === undefined) usage(`no action given (usage: ts-container pod ${ACTIONS.join('|')} ...)`);
  const action = ACTIONS.includes(word as PodAction) ? (word as PodAction) : ACTION_ALIASES[word];
  if (action === undefined) usage(`unknown action '${word}' (expected ${ACTIONS.join(', ')})`);
  checkFlagsFor(action, flags);
  const cli = flags.cli;
  switch (action) {
    case 'create':
      if (names.length !== 1) usage('create: expected one NAME (usage: ts-container pod create [OPTIONS] NAME)');
      return {
        kind: 'pod',
        action,
        names,
        ...(cli.network !== undefined && { network: cli.network as string }),
        ...(cli.publish !== undefined && { ports: cli.publish as unknown[] }),
        force: false,
        format: 'table',
      };
    case 'ls':
      if (names.length > 0) usage(`ls takes no arguments, got ${names.join(' ')}`);
      if (cli.json && cli.quiet) usage('ls: --json and -q do not go together: pick one output');
      return { kind: 'pod', action, names, force: false, format: cli.json ? 'json' : cli.quiet ? 'ids' : 'table' };
    case 'rm':
      if (names.length === 0) usage('rm: no pod given (usage: ts-container pod rm [-f] NAME...)');
      return { kind: 'pod', action, names, force: cli.force === true, format: 'table' };
  }
}

export const POD_COMMAND: CommandDef = {
  name: 'pod',
  summary: 'Create, list and remove pods',
  usage: 'create [OPTIONS] NAME | ls [--json|-q] | rm [-f] NAME...',
  description: `A pod is several containers sharing one network, uts and ipc namespace: they
reach each other on localhost and have the pod's name as hostname. A small pause
process holds the namespaces; \`run --pod NAME\` makes a container of the pod.
  create   make pod NAME and start its pause process; prints NAME
  ls       list the pods
  rm       remove pods; refused while containers of one run, unless -f`,
  footer: `Pods live in the data root (global --data-root DIR, or $TS_CONTAINER_DATA_ROOT);
their pause containers in the state directory (global --root DIR).

Example:
  ts-container pod create svc && ts-container run -d --pod svc ... && ts-container pod rm -f svc`,
  flags: POD_FLAGS,
  build: (flags, args) => buildPodCommand(flags, args),
};
