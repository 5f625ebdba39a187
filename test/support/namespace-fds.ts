/** The namespaces Node's own fds point at (what it holds of containers), as "mnt:[4026532...]" links. */
import * as fs from 'node:fs';

export function heldNamespaceLinks(): string[] {
  const links: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const link = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (/^(mnt|net):\[/.test(link)) links.push(link);
    } catch {
      // closed meanwhile (the listing's own fd)
    }
  }
  return links.sort();
}
