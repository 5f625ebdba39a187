/**
 * Name resolution: each member of a network gets its own /etc/hosts, kept under
 * <dataRoot>/networks/resolve/<id>/ and bind-mounted into the container. When members join
 * or leave, the files of the others are rewritten IN PLACE (a rename would leave the bind
 * mount on the old inode), under the networks lock. A file, not a resolver: nothing has to
 * run for it, it works with any libc (musl and busybox included) and no port is taken in the
 * container's namespace; a member that joins later is resolved at the next lookup.
 * /etc/resolv.conf is the host's, minus loopback resolvers (unreachable from the container).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attachedIds, readMember, type Member } from './attachment-record';
import { listDefinitions, networksDir } from './network-store';

export function resolveDir(dataRoot: string, id: string): string {
  return path.join(networksDir(dataRoot), 'resolve', id);
}

export function resolveFiles(dataRoot: string, id: string): { hosts: string; resolvConf: string } {
  const dir = resolveDir(dataRoot, id);
  return { hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') };
}

const LOCALHOST = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];

/** Replaces the file's bytes keeping its inode: a bind mount of it sees the new text. */
function rewriteInPlace(file: string, text: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o644);
  try {
    const bytes = Buffer.from(text);
    fs.writeSync(fd, bytes, 0, bytes.length, 0);
    fs.ftruncateSync(fd, bytes.length);
  } finally {
    fs.closeSync(fd);
  }
}

/** The host's resolv.conf without the nameservers a container cannot reach (loopback). */
export function containerResolvConf(hostText: string): string {
  const lines = hostText.split('\n').filter((line) => {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    return !match || !(match[1].startsWith('127.') || match[1] === '::1');
  });
  const text = lines.join('\n').trim();
  return text === '' ? '# no resolver of the host is reachable from a container\n' : text + '\n';
}

/** Makes the container's files before it exists: its own names, the host's resolvers. */
export function makeResolveFiles(dataRoot: string, member: Member): { hosts: string; resolvConf: string } {
  const files = resolveFiles(dataRoot, member.id);
  fs.mkdirSync(path.dirname(files.hosts), { recursive: true, mode: 0o755 });
  let hostResolv = '';
  try {
    hostResolv = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // none on the host: the container gets an empty one
  }
  rewriteInPlace(files.resolvConf, containerResolvConf(hostResolv));
  rewriteInPlace(files.hosts, [...LOCALHOST, `127.0.1.1\t${member.names.join(' ')}`, ''].join('\n'));
  return files;
}

export function removeResolveFiles(dataRoot: string, id: string): void {
  fs.rmSync(resolveDir(dataRoot, id), { recursive: true, force: true });
}

/**
 * Rewrites the hosts file of every member of `networks` (call under the networks lock):
 * each lists itself and every member of every network it is on, by address.
 */
export function refreshHosts(dataRoot: string, networks: string[]): void {
  const membersOf = new Map<string, Member[]>();
  const readNetwork = (name: string): Member[] => {
    let members = membersOf.get(name);
    if (!members) {
      members = attachedIds(dataRoot, name).flatMap((id) => readMember(dataRoot, name, id) ?? []);
      membersOf.set(name, members);
    }
    return members;
  };
  const all = listDefinitions(dataRoot).map((d) => d.name);
  const touched = new Set<string>();
  for (const network of networks) for (const member of readNetwork(network)) touched.add(member.id);
  for (const id of touched) {
    const file = resolveFiles(dataRoot, id).hosts;
    if (!fs.existsSync(file)) continue;
    const lines = [...LOCALHOST];
    const own: string[] = [];
    for (const name of all) {
      const members = readNetwork(name);
      if (!members.some((m) => m.id === id)) continue;
      for (const member of members) {
        if (!member.address) continue;
        const line = `${member.address}\t${member.names.join(' ')}`;
        (member.id === id ? own : lines).push(line);
      }
    }
    rewriteInPlace(file, [...lines.slice(0, 2), ...own, ...lines.slice(2), ''].join('\n'));
  }
}
