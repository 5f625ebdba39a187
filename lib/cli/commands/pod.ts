/** `ts-container pod create|ls|rm`: the library's Pod, with its errors as messages and exit statuses. */
import { Pod } from '../../pods/pod';
import type { PodCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { defaultIO, EXIT_CONTAINER_ERROR, report, type CommandIO } from './common';
import { formatTable, relativeTime } from './format';

/** A pod that is not there, or still has running containers: 1, as for containers; else 125. */
function reportPodFailure(io: CommandIO, err: unknown): number {
  report(io, err instanceof Error ? err.message : String(err));
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOPOD' || code === 'EPODINUSE' ? EXIT_CONTAINER_ERROR : EXIT_RUNTIME_ERROR;
}

/** NAME, NETWORK, CONTAINERS (running), CREATED. */
async function formatPods(pods: readonly Pod[], now: Date): Promise<string> {
  const rows: string[][] = [];
  for (const pod of pods) {
    const members = await pod.containers();
    rows.push([pod.name, pod.network ?? 'none', String(members.length), relativeTime(pod.created.toISOString(), now)]);
  }
  return formatTable(['NAME', 'NETWORK', 'CONTAINERS', 'CREATED'], rows);
}

export async function podCommand(cmd: PodCommand, io: Partial<CommandIO> = {}): Promise<number> {
  const out = defaultIO(io);
  const roots = { ...(cmd.dataRoot !== undefined && { dataRoot: cmd.dataRoot }) };
  try {
    switch (cmd.action) {
      case 'create': {
        const pod = await Pod.create({
          name: cmd.names[0],
          ...roots,
          ...(cmd.stateRoot !== undefined && { stateRoot: cmd.stateRoot }),
          ...(cmd.network !== undefined && { network: cmd.network }),
          ...(cmd.ports !== undefined && { ports: cmd.ports }),
        });
        out.stdout.write(`${pod.name}\n`);
        return 0;
      }
      case 'ls': {
        const pods = await Pod.list(roots);
        if (cmd.format === 'json') out.stdout.write(`${JSON.stringify(pods, null, 2)}\n`);
        else if (cmd.format === 'ids') out.stdout.write(pods.map((pod) => `${pod.name}\n`).join(''));
        else out.stdout.write(await formatPods(pods, new Date()));
        return 0;
      }
      case 'rm': {
        let status = 0;
        for (const name of cmd.names) {
          try {
            await (await Pod.get(name, roots)).remove({ force: cmd.force });
            out.stdout.write(`${name}\n`);
          } catch (err) {
            status = Math.max(status, reportPodFailure(out, err));
          }
        }
        return status;
      }
    }
  } catch (err) {
    return reportPodFailure(out, err);
  }
}
