/** `ts-container cp SRC DST`: copyIn / copyOut, with "-" as a tar on stdin or stdout. */
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { CopyCommand } from '../parsed';
import { openContainer, reportFailure, type CommandIO } from './common';

/** A host path made absolute, keeping what docker cp reads from its end: "/." (contents) and "/" (a directory). */
function hostPath(given: string): string {
  const absolute = path.resolve(given);
  if (absolute === '/') return absolute;
  if (/(^|\/)\.$/.test(given)) return `${absolute}/.`;
  return given.endsWith('/') ? `${absolute}/` : absolute;
}

export async function cpCommand(cmd: CopyCommand, io: CommandIO & { stdin?: Readable }): Promise<number> {
  const { source, destination } = cmd;
  const inside = source.kind === 'container' ? source : destination.kind === 'container' ? destination : undefined;
  if (!inside) throw new Error('internal: cp without a container side');
  try {
    const container = await openContainer(inside.id, cmd.stateRoot);
    if (source.kind === 'container') {
      if (destination.kind === 'stdio') {
        // stdout is synchronous for files and pipes on Linux: each chunk is written as it comes.
        for await (const chunk of await container.copyOut(source.path)) io.stdout.write(chunk as Buffer);
      } else if (destination.kind === 'host') {
        await container.copyOut(source.path, hostPath(destination.path));
      }
    } else if (destination.kind === 'container') {
      if (source.kind === 'stdio') await container.copyIn(io.stdin ?? process.stdin, destination.path);
      else await container.copyIn({ hostPath: hostPath(source.path) }, destination.path);
    }
    return 0;
  } catch (err) {
    return reportFailure(io, inside.id, err);
  }
}
