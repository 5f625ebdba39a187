/**
 * A container's network namespace pinned by a bind mount at <dataRoot>/networks/netns/<id>,
 * from ADD until DEL, as `ip netns` and podman do. The namespace then outlives the container's
 * processes until DEL has run in it: the bridge plugin learns there which addresses to drop
 * from its masquerade rules (with the namespace gone, it would leave them), and the veth goes
 * with DEL, not at a random later moment. The sweep unpins what a crash left pinned.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import { networksDir } from './network-store';

export function netnsFile(dataRoot: string, id: string): string {
  return path.join(networksDir(dataRoot), 'netns', id);
}

/** Pins the namespace of `pid`; returns the path that names it for CNI_NETNS. */
export async function pinNetns(dataRoot: string, id: string, pid: number): Promise<string> {
  const file = netnsFile(dataRoot, id);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'w', 0o600));
  try {
    native().bindMount(`/proc/${pid}/ns/net`, file);
  } catch (error) {
    fs.rmSync(file, { force: true });
    throw error;
  }
  return file;
}

/** The path when a namespace is pinned there (in this mount namespace), else ''. */
export function pinnedNetns(dataRoot: string, id: string): string {
  const file = netnsFile(dataRoot, id);
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
  // Field 5 is the mount point (spaces and other specials octal-escaped).
  const escaped = file.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === escaped) ? file : '';
}

export async function unpinNetns(dataRoot: string, id: string): Promise<void> {
  const file = netnsFile(dataRoot, id);
  while (pinnedNetns(dataRoot, id)) {
    if (!native().unmount(file)) break;
  }
  fs.rmSync(file, { force: true });
}
