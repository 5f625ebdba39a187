/**
 * `ts-container network create|ls|inspect|rm`: the networks of the data root (global
 * --data-root DIR), as `docker network` names them. The library checks names and subnets.
 */
import { UsageError } from '../usage-error';
import type { CommandDef } from './commands';
import * as v from './values';

const VERBS = ['create', 'ls', 'inspect', 'rm'] as const;

export const NETWORK_COMMAND: CommandDef = {
  name: 'network',
  summary: 'Manage networks: create, ls, inspect, rm',
  usage: 'create [--subnet CIDR] [--internal] NAME | ls [--json] | inspect NAME... | rm [-f] NAME...',
  description: `Networks that span containers: a bridge wired by the CNI plugins, defined in the data
root and visible to every process. Containers join one with run --network NAME
(--network-alias NAME for more names, -p to publish ports); members reach each
other by id, hostname and aliases. A network's bridge is made in the network
namespace of whoever uses it.`,
  footer: `Networks live in the data root (global --data-root DIR, or $TS_CONTAINER_DATA_ROOT).`,
  flags: [
    { names: ['--subnet'], value: 'CIDR', help: 'create: the IPv4 subnet, /8 to /29 (default: the first free /24 from 10.89.0.0/24)', target: 'cli:subnet', convert: v.text },
    { names: ['--internal'], help: 'create: no outbound NAT and no default route', target: 'cli:internal' },
    { names: ['--json'], help: 'ls: print the networks as a JSON array', target: 'cli:json' },
    { names: ['-f', '--force'], help: 'rm: detach the containers still attached first', target: 'cli:force' },
  ],
  build(flags, args) {
    const [verb, ...names] = args;
    if (!(VERBS as readonly string[]).includes(verb)) {
      throw new UsageError(`network: expected one of ${VERBS.join(', ')}, got ${verb === undefined ? 'nothing' : `'${verb}'`}`, undefined, 'network');
    }
    if (verb === 'create' && names.length !== 1) throw new UsageError('network create: expected one NAME', undefined, 'network');
    if ((verb === 'inspect' || verb === 'rm') && names.length === 0) throw new UsageError(`network ${verb}: expected NAME...`, undefined, 'network');
    if (verb === 'ls' && names.length > 0) throw new UsageError(`network ls: takes no arguments, got '${names[0]}'`, undefined, 'network');
    return {
      kind: 'network',
      verb: verb as (typeof VERBS)[number],
      names,
      ...(flags.cli.subnet !== undefined && { subnet: flags.cli.subnet as string }),
      internal: flags.cli.internal === true,
      json: flags.cli.json === true,
      force: flags.cli.force === true,
    };
  },
};
