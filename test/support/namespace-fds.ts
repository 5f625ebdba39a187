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

/**
 * The namespaces Node holds once the closes still under way have finished: a container's
 * holds are let go in the background (native/addon/background_close.h), after its test may
 * have ended. A test takes this before it counts new holds, because the kernel reuses the
 * inode number of a namespace that is gone: one still closing when the count began could
 * come back as a new namespace that looks held from before. Returns what is still held after
 * `timeoutMs` (a container the caller keeps running).
 */
export async function quietNamespaceLinks(timeoutMs = 5000): Promise<string[]> {
  for (let waited = 0; heldNamespaceLinks().length > 0 && waited < timeoutMs; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return heldNamespaceLinks();
}
