/**
 * Builds a minimal root filesystem from Debian's busybox-static: one static binary,
 * a symlink per applet, the few files a shell expects, and the mount points tests use (so that
 * no test has to create one in this shared tree). Used by tests, bench and examples.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const BUSYBOX = '/bin/busybox';

export const DEFAULT_ROOTFS_DIR = path.resolve(__dirname, '..', '..', '.test-rootfs', 'busybox');

/** Returns the rootfs directory, building it once (idempotent, safe to call from many processes). */
export function ensureBusyboxRootfs(dir: string = DEFAULT_ROOTFS_DIR): string {
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return dir;
  if (!fs.existsSync(BUSYBOX)) {
    throw new Error(`${BUSYBOX} not found: install Debian's busybox-static (apt-get install busybox-static)`);
  }
  const staging = `${dir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home', 'work', 'mnt', 'scratch']) {
    fs.mkdirSync(path.join(staging, d), { recursive: true });
  }
  fs.chmodSync(path.join(staging, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(staging, 'bin', 'busybox'));
  fs.chmodSync(path.join(staging, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list']).toString().split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    const link = path.join(staging, 'bin', applet);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(staging, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home:/bin/sh\n');
  fs.writeFileSync(path.join(staging, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\nuser:x:1000:\n');
  fs.writeFileSync(path.join(staging, 'etc', 'hostname'), 'rootfs\n');
  fs.writeFileSync(path.join(staging, 'etc', 'hosts'), '127.0.0.1 localhost\n');
  fs.writeFileSync(path.join(staging, '.complete'), '');
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.renameSync(staging, dir);
  } catch (err) {
    // Another process finished first: keep its copy.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(marker)) throw err;
  }
  return dir;
}
