/**
 * `ts-container port ID [PRIVATE_PORT[/PROTO]]`: the published ports of a container, one line
 * each as docker port prints them (`80/tcp -> 127.0.0.1:8080`; with a filter, the host side
 * only). A pod's member shows the pod's ports: they reach the namespace it shares.
 */
import { Container } from '../../container/container';
import { publishedPorts, type PublishedPort } from '../../networks/container-networks';
import { Pod } from '../../pods/pod';
import type { PortCommand } from '../parsed';
import { openContainer, reportFailure, type CommandIO } from './common';

async function portsOf(container: Container): Promise<PublishedPort[]> {
  const { dataRoot, pod } = container.config;
  if (!pod) return publishedPorts(dataRoot, container.id);
  const { pause } = await Pod.get(pod.name, { dataRoot: pod.dataRoot });
  return publishedPorts(pod.dataRoot, pause.id);
}

export async function portCommand(cmd: PortCommand, io: CommandIO): Promise<number> {
  try {
    const container = await openContainer(cmd.id, cmd.stateRoot);
    const { filter } = cmd;
    const ports = (await portsOf(container)).filter((p) => !filter || (p.container === filter.port && p.protocol === filter.protocol));
    for (const p of ports) {
      const host = `${p.hostIp}:${p.host}`;
      io.stdout.write(filter ? `${host}\n` : `${p.container}/${p.protocol} -> ${host}\n`);
    }
    if (filter && ports.length === 0) {
      io.stderr.write(`ts-container: no public port '${filter.port}/${filter.protocol}' published for ${cmd.id}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    return reportFailure(io, cmd.id, err);
  }
}
