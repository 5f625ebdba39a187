/**
 * `ts-container compose [-f FILE] [-p NAME] up [-d] | down [-v] | ps [--json] | logs [-f]`, as
 * docker compose spells it: the flags before the verb are compose's own (the file and the
 * project), the ones after it the verb's (so `-f` is the file before, follow after `logs`).
 * And `ts-container volume create|ls|inspect|rm`: the named volumes of the data root.
 */
import { UsageError } from '../usage-error';
import type { CommandDef } from './commands';
import * as v from './values';

const COMPOSE_VERBS: Record<string, Record<string, string>> = {
  up: { '-d': 'detach', '--detach': 'detach' },
  down: { '-v': 'volumes', '--volumes': 'volumes' },
  ps: { '--json': 'json', '-q': 'quiet', '--quiet': 'quiet' },
  logs: { '-f': 'follow', '--follow': 'follow' },
};

export const COMPOSE_COMMAND: CommandDef = {
  name: 'compose',
  summary: 'Run a stack of containers from a compose file: up, down, ps, logs',
  usage: '[-f FILE] [-p NAME] up [-d] | down [-v] | ps [--json|-q] | logs [-f]',
  description: `Services of a compose file (compose.yaml, compose.yml, docker-compose.yml or
docker-compose.yaml in the working directory, or -f FILE) as containers
named PROJECT-SERVICE-1 on the stack's networks, where services reach each
other by name. up makes the networks and volumes and starts the services in
the order of their depends_on (service_started, service_healthy,
service_completed_successfully); without -d it then prints their output
until Ctrl-C, which stops them. down stops and deletes the containers and
networks (and the named volumes with -v). ps lists the containers, logs
their output (-f: and what follows). The project name is -p NAME, the
file's name: key, or its directory's name. Keys outside the supported
subset are refused by name.`,
  footer: `Images come from the image store of the data root (global --data-root DIR) and are never
pulled here; containers live in the state root (global --root DIR).`,
  flags: [
    { names: ['-f', '--file'], value: 'FILE', help: 'The compose file, or a directory holding one (default: the working directory\'s)', target: 'cli:file', convert: v.hostPath },
    { names: ['-p', '--project-name'], value: 'NAME', help: 'The project name: prefix of the containers, networks and volumes', target: 'cli:projectName', convert: v.text },
  ],
  flagsEndAtPositional: true,
  build(flags, args) {
    const [verb, ...rest] = args;
    const own = verb === undefined ? undefined : COMPOSE_VERBS[verb];
    if (own === undefined) {
      throw new UsageError(`compose: expected one of ${Object.keys(COMPOSE_VERBS).join(', ')}, got ${verb === undefined ? 'nothing' : `'${verb}'`}`, undefined, 'compose');
    }
    const set = new Set<string>();
    for (const word of rest) {
      const meaning = own[word];
      if (meaning === undefined) throw new UsageError(`compose ${verb}: unknown argument '${word}' (expected ${Object.keys(own).join(', ')})`, undefined, 'compose');
      set.add(meaning);
    }
    if (set.has('json') && set.has('quiet')) throw new UsageError('compose ps: --json and -q do not go together', undefined, 'compose');
    return {
      kind: 'compose',
      verb: verb as 'up' | 'down' | 'ps' | 'logs',
      ...(flags.cli.file !== undefined && { file: flags.cli.file as string }),
      ...(flags.cli.projectName !== undefined && { project: flags.cli.projectName as string }),
      detach: set.has('detach'),
      volumes: set.has('volumes'),
      follow: set.has('follow'),
      format: set.has('json') ? 'json' : set.has('quiet') ? 'ids' : 'table',
    };
  },
};

const VOLUME_VERBS = ['create', 'ls', 'inspect', 'rm'] as const;

export const VOLUME_COMMAND: CommandDef = {
  name: 'volume',
  summary: 'Manage named volumes: create, ls, inspect, rm',
  usage: 'create [NAME] | ls [--json|-q] | inspect NAME... | rm NAME...',
  description: `Named volumes: directories of the data root that containers mount
(run --mount type=volume,src=NAME,dst=PATH) and that outlive them. A volume
is made on first use, or by create (a random name when none is given), and
deleted only by rm (or compose down -v). rm refuses a volume that a
container mounts, running or stopped, until that container is deleted.`,
  footer: `Volumes live in the data root (global --data-root DIR, or $TS_CONTAINER_DATA_ROOT).`,
  flags: [
    { names: ['--json'], help: 'ls: print the volumes as a JSON array', target: 'cli:json' },
    { names: ['-q', '--quiet'], help: 'ls: print only the names', target: 'cli:quiet' },
  ],
  build(flags, args) {
    const [verb, ...names] = args;
    if (!(VOLUME_VERBS as readonly string[]).includes(verb)) {
      throw new UsageError(`volume: expected one of ${VOLUME_VERBS.join(', ')}, got ${verb === undefined ? 'nothing' : `'${verb}'`}`, undefined, 'volume');
    }
    if (verb === 'create' && names.length > 1) throw new UsageError('volume create: expected at most one NAME', undefined, 'volume');
    if ((verb === 'inspect' || verb === 'rm') && names.length === 0) throw new UsageError(`volume ${verb}: expected NAME...`, undefined, 'volume');
    if (verb === 'ls' && names.length > 0) throw new UsageError(`volume ls: takes no arguments, got '${names[0]}'`, undefined, 'volume');
    if (verb !== 'ls' && (flags.cli.json !== undefined || flags.cli.quiet !== undefined)) throw new UsageError('volume: --json and -q go with ls only', undefined, 'volume');
    if (flags.cli.json !== undefined && flags.cli.quiet !== undefined) throw new UsageError('volume ls: --json and -q do not go together', undefined, 'volume');
    return { kind: 'volume', verb: verb as (typeof VOLUME_VERBS)[number], names, format: flags.cli.json ? 'json' : flags.cli.quiet ? 'ids' : 'table' };
  },
};
