/**
 * A container's network namespace pinned by a bind mount at <dataRoot>/networks/netns/<id>,
 * from ADD until DEL, as `ip netns` and podman do. The namespace then outlives the container's
 * processes until DEL has run in it: the bridge plugin learns there which addresses to drop
 * from its masquerade rules (with the namespace gone, it would leave them), and the veth goes
 * with DEL, not at a random later moment. The sweep unpins what a crash left pinned.
 * An attachment made by connect() has a pin of its own, <id>@<network>: the container's pin
 * belongs to its own network and goes with it (a detached container's monitor unpins it when
 * the container stops or restarts), while the connected attachment's DEL still needs the
 * namespace its interface is in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from '../native/binding';
import { networksDir } from './network-store';

/** The container's pin, or with `connected`, that of its attachment to that network. */
export function netnsFile(dataRoot: string, id: string, connected?: string): string {
  return path.join(networksDir(dataRoot), 'netns', connected === undefined ? id : `${id}@${connected}`);
}

/** Pins the namespace of `pid`; returns the path that names it for CNI_NETNS. */
export async function pinNetns(dataRoot: string, id: string, pid: number, connected?: string): Promise<string> {
  const file = netnsFile(dataRoot, id, connected);
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
export function pinnedNetns(dataRoot: string, id: string, connected?: string): string {
  const file = netnsFile(dataRoot, id, connected);
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

/** The namespace an attachment's DEL runs in: its own pin (connect()), else the container's. */
export function attachmentNetns(dataRoot: string, network: string, id: string): string {
  return pinnedNetns(dataRoot, id, network) || pinnedNetns(dataRoot, id);
}

export async function unpinNetns(dataRoot: string, id: string, connected?: string): Promise<void> {
  const file = netnsFile(dataRoot, id, connected);
  while (pinnedNetns(dataRoot, id, connected)) {
    if (!native().unmount(file)) break;
  }
  fs.rmSync(file, { force: true });
}
