/** Small, synchronous cgroupfs file access: the files are tiny and in memory. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Out of fds or memory: the process cannot read, which never means an empty or missing file. */
const EXHAUSTED = new Set(['EMFILE', 'ENFILE', 'ENOMEM']);

/** A cgroup file failed: Node's code kept, and the step and path named. */
function cgroupFileError(step: string, file: string, error: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const wrapped = new Error(`cgroup: ${step} ${file}: ${error.code ?? error.message}`) as NodeJS.ErrnoException & { step: string };
  wrapped.code = error.code;
  wrapped.errno = error.errno;
  wrapped.syscall = error.syscall;
  wrapped.path = file;
  wrapped.step = step;
  return wrapped;
}

export function readCgroupFile(dir: string, file: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code && EXHAUSTED.has(e.code)) throw cgroupFileError('read', path.join(dir, file), e);
    return null;
  }
}

/** Writes one value; a failure names the file and what was written. */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (error) {
    throw cgroupFileError(`write ${JSON.stringify(value)} to`, path.join(dir, file), error as NodeJS.ErrnoException);
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
