/**
 * Whether a TCP port listens inside a container's network namespace: /proc/PID/net/tcp and
 * tcp6 of a process list the sockets of that process's network namespace, the host's never
 * (unless the container shares the host's network).
 */
import * as fs from 'node:fs/promises';

/** TCP_LISTEN, as /proc/net/tcp spells a socket's state (column "st"). */
const LISTEN = '0A';

/** The ports in LISTEN state of one /proc/PID/net/tcp{,6} table. */
export function listeningPorts(table: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split('\n').slice(1)) {
    // "  sl  local_address rem_address   st ...": local_address is ADDR:PORT in hex.
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== LISTEN) continue;
    const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/** Whether `port` listens (IPv4 or IPv6) in the network namespace of process `pid`. */
export async function portListens(pid: number, port: number): Promise<boolean> {
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = await fs.readFile(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      // No IPv6 in the kernel, or the process is gone: the caller sees that through the container's state.
      continue;
    }
    if (listeningPorts(text).has(port)) return true;
  }
  return false;
}
