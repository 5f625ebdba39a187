/** `ts-container volume create|ls|inspect|rm`, over Volume of the library. */
import { randomBytes } from 'node:crypto';
import { Volume } from '../../volumes/volume';
import type { VolumeCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { EXIT_CONTAINER_ERROR, defaultIO, report, type CommandIO } from './common';
import { formatTable } from './format';

/** Exit status 1, as docker's: a volume that is missing or in use. */
const USER_ERROR_CODES = new Set(['ENOVOLUME', 'EVOLUMEINUSE']);

export async function volumeCommand(cmd: VolumeCommand, io: Partial<CommandIO> = {}): Promise<number> {
  const out = defaultIO(io);
  const root = cmd.dataRoot === undefined ? {} : { dataRoot: cmd.dataRoot };
  try {
    switch (cmd.verb) {
      case 'create': {
        // As docker: a volume without a name gets a random one.
        const volume = await Volume.create(cmd.names[0] ?? randomBytes(32).toString('hex'), root);
        out.stdout.write(`${volume.name}\n`);
        return 0;
      }
      case 'ls': {
        const volumes = await Volume.list(root);
        if (cmd.format === 'json') out.stdout.write(`${JSON.stringify(volumes.map((v) => v.toJSON()), null, 2)}\n`);
        else if (cmd.format === 'ids') out.stdout.write(volumes.map((v) => `${v.name}\n`).join(''));
        else out.stdout.write(formatTable(['NAME', 'CONTAINERS', 'MOUNTPOINT'], volumes.map((v) => [v.name, String(v.containers.length), v.mountpoint])));
        return 0;
      }
      case 'inspect': {
        const found = [];
        for (const name of cmd.names) found.push((await Volume.get(name, root)).toJSON());
        out.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        return 0;
      }
      case 'rm': {
        let status = 0;
        // Each name on its own, as docker: one in use does not keep the others.
        for (const name of cmd.names) {
          try {
            await Volume.remove(name, root);
            out.stdout.write(`${name}\n`);
          } catch (err) {
            status = Math.max(status, failure(out, err));
          }
        }
        return status;
      }
    }
  } catch (err) {
    return failure(out, err);
  }
}

function failure(out: CommandIO, err: unknown): number {
  const code = (err as { code?: string }).code;
  report(out, err instanceof Error ? err.message : String(err));
  return code !== undefined && USER_ERROR_CODES.has(code) ? EXIT_CONTAINER_ERROR : EXIT_RUNTIME_ERROR;
}
