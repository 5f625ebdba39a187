/**
 * `ts-container inspect NAME...`: as docker inspect, a container of that id if there is one,
 * else an image of that reference or id; a JSON array of what was found, exit 1 if a NAME is
 * neither.
 */
import { Container } from '../../../container/container';
import type { InspectCommand } from '../../parsed';
import type { ContainerConfig } from '../../../options/validate';
import { dockerInspect } from '../container-inspect';
import { report, type CommandIO } from '../common';
import { EXIT_RUNTIME_ERROR } from '../../parsed';
import { EXIT_IMAGE_ERROR, openImageStore } from './store';

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** The container's entry and OCI state, or undefined when the state root has no such id. */
async function inspectContainer(name: string, stateRoot: string | undefined): Promise<object | undefined> {
  if (!CONTAINER_ID.test(name)) return undefined;
  const opts = stateRoot === undefined ? {} : { stateRoot };
  const entry = (await Container.list(opts)).find((e) => e.id === name);
  if (entry === undefined) return undefined;
  try {
    const container = await Container.get(name, opts);
    if (entry.error !== undefined) return { Type: 'container', ...entry };
    return dockerInspect(entry, await container.state(), container.config as ContainerConfig);
  } catch (err) {
    if (codeOf(err) === 'ENOCONTAINER') return undefined;
    throw err;
  }
}

export async function inspectCommand(cmd: InspectCommand, io: CommandIO): Promise<number> {
  const found: object[] = [];
  let status = 0;
  for (const name of cmd.names) {
    try {
      const container = cmd.type === 'image' ? undefined : await inspectContainer(name, cmd.stateRoot);
      if (container !== undefined) {
        found.push(container);
        continue;
      }
      if (cmd.type === 'container') {
        report(io, `no such container: ${name}`);
        status ||= EXIT_IMAGE_ERROR;
        continue;
      }
      found.push({ Type: 'image', ...(await openImageStore(cmd.dataRoot).inspect(name)) });
    } catch (err) {
      const code = codeOf(err);
      report(io, code === 'ENOIMAGE' ? `no such image or container: ${name}` : err instanceof Error ? err.message : String(err));
      status ||= code === 'ENOIMAGE' ? EXIT_IMAGE_ERROR : EXIT_RUNTIME_ERROR;
    }
  }
  io.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
  return status;
}
