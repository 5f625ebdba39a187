/** Small, synchronous cgroupfs file access: the files are tiny and in memory. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function readCgroupFile(dir: string, file: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return null;
  }
}

/** Writes one value; a failure names the file and what was written. */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const wrapped = new Error(`cgroup: write ${JSON.stringify(value)} to ${path.join(dir, file)}: ${e.code ?? e.message}`) as NodeJS.ErrnoException;
    wrapped.code = e.code;
    throw wrapped;
  }
}

export function cgroupFileExists(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}

/** pids listed in a cgroup.procs file. */
export function readProcs(dir: string): number[] {
  const text = readCgroupFile(dir, 'cgroup.procs') ?? '';
  return text.split('\n').filter(Boolean).map(Number);
}
