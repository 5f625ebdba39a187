/**
 * `ts-container cp SRC DST`, as docker cp: one side is ID:PATH, a path in a container; the
 * other a host path, or "-" for a tar stream on stdin (into the container) or stdout (out of it).
 */
import type { CopyEndpoint } from '../parsed';
import { UsageError } from '../usage-error';
import type { CommandDef } from './commands';
import { CONTAINER_ID } from './container-id';

/**
 * ID:PATH names a container's path when the text before the first ':' holds no '/'; a path
 * that starts with '.' or has a '/' before its first ':' is the host's (docker's rule), so
 * ./a:b and dir/a:b are host files.
 */
export function copyEndpoint(arg: string): CopyEndpoint {
  if (arg === '-') return { kind: 'stdio' };
  if (arg === '') throw new UsageError('cp: an empty path', undefined, 'cp');
  const colon = arg.indexOf(':');
  if (colon > 0 && !arg.slice(0, colon).includes('/') && !arg.startsWith('.')) {
    const id = arg.slice(0, colon);
    const path = arg.slice(colon + 1);
    if (!CONTAINER_ID.test(id)) throw new UsageError(`cp: '${id}' is not a container id (in ${arg})`, undefined, 'cp');
    if (path === '') throw new UsageError(`cp: ${arg}: no path in the container after ':'`, undefined, 'cp');
    return { kind: 'container', id, path };
  }
  return { kind: 'host', path: arg };
}

export const CP_COMMAND: CommandDef = {
  name: 'cp',
  summary: 'Copy files between a container and the host',
  usage: 'ID:SRC_PATH DEST_PATH|-  or  SRC_PATH|- ID:DEST_PATH',
  description: `Copy a file or directory (recursively, symlinks as themselves) out of or into
container ID, as docker cp does: onto DEST_PATH when that is a directory, else as
DEST_PATH; a SRC_PATH ending in /. copies the directory's contents. "-" is a tar
stream: of SRC_PATH on stdout, or read from stdin and extracted under the
directory DEST_PATH. Paths in the container are resolved inside its root, as the
container sees them. The container may be created, running or paused (or
stopped, when its rootfs is a plain directory). Files copied in from the host
are owned by the container's root.`,
  footer: `Examples:
  ts-container cp ./site web:/usr/share/html
  ts-container cp web:/etc/nginx/nginx.conf .
  ts-container cp web:/var/log - | tar -t`,
  flags: [],
  build: (_flags, args) => {
    if (args.length !== 2) throw new UsageError(`cp: expected SRC and DEST, got ${args.length} argument${args.length === 1 ? '' : 's'}`, undefined, 'cp');
    const source = copyEndpoint(args[0] as string);
    const destination = copyEndpoint(args[1] as string);
    const inContainer = [source, destination].filter((e) => e.kind === 'container').length;
    if (inContainer !== 1) {
      throw new UsageError(
        inContainer === 0 ? 'cp: one of SRC and DEST must be ID:PATH, a path in a container' : 'cp: copying between two containers is not supported: go through the host',
        undefined,
        'cp',
      );
    }
    if (source.kind === 'stdio' && destination.kind === 'stdio') throw new UsageError('cp: SRC and DEST cannot both be "-"', undefined, 'cp');
    return { kind: 'cp', source, destination };
  },
};
