/**
 * `ts-container network create|ls|inspect|rm|connect|disconnect`: the networks of the data
 * root (global --data-root DIR), as `docker network` names them; connect and disconnect find
 * the container in the state root (global --root DIR). The library checks names and subnets.
 */
import { UsageError } from '../usage-error';
import type { CommandDef } from './commands';
import * as v from './values';

const VERBS = ['create', 'ls', 'inspect', 'rm', 'connect', 'disconnect'] as const;

export const NETWORK_COMMAND: CommandDef = {
  name: 'network',
  summary: 'Manage networks: create, ls, inspect, rm, connect, disconnect',
  usage:
    'create [--subnet CIDR] [--internal] [--mtu N] NAME | ls [--json] | inspect NAME... | rm [-f] NAME...\n' +
    '       ts-container network connect [--alias NAME]... NETWORK ID | disconnect NETWORK ID',
  description: `Networks that span containers: a bridge wired by the CNI plugins, defined in the data
root and visible to every process. Containers join one with run --network NAME
(--network-alias NAME for more names, -p to publish ports); members reach each
other by id, hostname and aliases. A network's bridge is made in the network
namespace of whoever uses it. connect gives a running container one more
interface on NETWORK, for as long as its main process lives (also when this
command has long exited); disconnect takes it away.`,
  footer: `Networks live in the data root (global --data-root DIR, or $TS_CONTAINER_DATA_ROOT).`,
  flags: [
    { names: ['--subnet'], value: 'CIDR', help: 'create: the IPv4 subnet, /8 to /29 (default: the first free /24 from 10.89.0.0/24)', target: 'cli:subnet', convert: v.text },
    { names: ['--internal'], help: 'create: no outbound NAT and no default route', target: 'cli:internal' },
    { names: ['--mtu'], value: 'N', help: 'create: the MTU of the bridge and its veths, 576 to 65535 (default 1500)', target: 'cli:mtu', convert: v.integer },
    { names: ['--json'], help: 'ls: print the networks as a JSON array', target: 'cli:json' },
    { names: ['--alias'], value: 'NAME', help: 'connect: another name the members resolve to the container (repeatable)', target: 'cli:alias[]', convert: v.text },
    { names: ['-f', '--force'], help: 'rm: detach the containers still attached first', target: 'cli:force' },
  ],
  build(flags, args) {
    const [verb, ...names] = args;
    if (!(VERBS as readonly string[]).includes(verb)) {
      throw new UsageError(`network: expected one of ${VERBS.join(', ')}, got ${verb === undefined ? 'nothing' : `'${verb}'`}`, undefined, 'network');
    }
    if (verb === 'create' && names.length !== 1) throw new UsageError('network create: expected one NAME', undefined, 'network');
    if ((verb === 'inspect' || verb === 'rm') && names.length === 0) throw new UsageError(`network ${verb}: expected NAME...`, undefined, 'network');
    if ((verb === 'connect' || verb === 'disconnect') && names.length !== 2) throw new UsageError(`network ${verb}: expected NETWORK ID`, undefined, 'network');
    if (verb !== 'connect' && flags.cli.alias !== undefined) throw new UsageError('network: --alias goes with connect only', '--alias', 'network');
    if (verb !== 'create' && flags.cli.mtu !== undefined) throw new UsageError('network: --mtu goes with create only', '--mtu', 'network');
    if (verb === 'ls' && names.length > 0) throw new UsageError(`network ls: takes no arguments, got '${names[0]}'`, undefined, 'network');
    return {
      kind: 'network',
      verb: verb as (typeof VERBS)[number],
      names,
      ...(flags.cli.subnet !== undefined && { subnet: flags.cli.subnet as string }),
      internal: flags.cli.internal === true,
      ...(flags.cli.mtu !== undefined && { mtu: flags.cli.mtu as number }),
      json: flags.cli.json === true,
      force: flags.cli.force === true,
      aliases: (flags.cli.alias as string[] | undefined) ?? [],
    };
  },
};
