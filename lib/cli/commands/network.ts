/** `ts-container network create|ls|inspect|rm|connect|disconnect`, over Network of the library. */
import { Network } from '../../networks/network';
import type { NetworkCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { EXIT_CONTAINER_ERROR, defaultIO, openContainer, report, type CommandIO } from './common';
import { formatTable } from './format';

/** Exit status 1, as docker's: a network or container that is missing, in use or in the wrong state. */
const USER_ERROR_CODES = new Set(['ENONETWORK', 'ENETWORKINUSE', 'ENETWORKEXISTS', 'ECONTAINERSTOPPED', 'ECONTAINERSTATE']);

export async function networkCommand(cmd: NetworkCommand, io: Partial<CommandIO> = {}): Promise<number> {
  const out = defaultIO(io);
  const root = cmd.dataRoot === undefined ? {} : { dataRoot: cmd.dataRoot };
  try {
    switch (cmd.verb) {
      case 'create': {
        const network = await Network.create({ ...root, name: cmd.names[0], internal: cmd.internal, ...(cmd.subnet !== undefined && { subnet: cmd.subnet }), ...(cmd.mtu !== undefined && { mtu: cmd.mtu }) });
        out.stdout.write(`${network.name}\n`);
        return 0;
      }
      case 'ls': {
        const networks = await Network.list(root);
        if (cmd.json) {
          out.stdout.write(`${JSON.stringify(networks.map((n) => n.toJSON()), null, 2)}\n`);
        } else {
          const rows = networks.map((n) => [n.name, n.subnet, n.gateway, n.internal ? 'yes' : 'no', String(n.mtu), String(n.containers.length)]);
          out.stdout.write(formatTable(['NAME', 'SUBNET', 'GATEWAY', 'INTERNAL', 'MTU', 'CONTAINERS'], rows));
        }
        return 0;
      }
      case 'inspect': {
        const found = [];
        for (const name of cmd.names) found.push((await Network.get(name, root)).toJSON());
        out.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        return 0;
      }
      case 'connect':
      case 'disconnect': {
        const [name, id] = cmd.names;
        const network = await Network.get(name, root);
        const container = await openContainer(id, cmd.stateRoot);
        if (cmd.verb === 'connect') await network.connect(container, { aliases: cmd.aliases });
        else await network.disconnect(container);
        return 0;
      }
      case 'rm': {
        for (const name of cmd.names) {
          await (await Network.get(name, root)).remove({ force: cmd.force });
          out.stdout.write(`${name}\n`);
        }
        return 0;
      }
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOCONTAINER') {
      report(out, `no such container: ${cmd.names[1]}`);
      return EXIT_CONTAINER_ERROR;
    }
    report(out, err instanceof Error ? err.message : String(err));
    return code !== undefined && USER_ERROR_CODES.has(code) ? EXIT_CONTAINER_ERROR : EXIT_RUNTIME_ERROR;
  }
}
