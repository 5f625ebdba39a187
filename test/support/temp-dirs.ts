/** Temporary directories a test file makes with tempDir() and removes with removeTempDirs() in its afterAll. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * For a process that runs scenarios (under `unshare`, started by a test): what it made goes when
 * it exits, each directory on its own (one that cannot go, say a mount point, keeps no other).
 */
export function removeTempDirsAtExit(): void {
  process.once('exit', () => {
    for (const dir of made.splice(0)) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // left as it is
      }
    }
  });
}
