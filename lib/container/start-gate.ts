/**
 * start() for a created container: its program waits, everything made, to open the start
 * FIFO for writing (native/helper/start_gate.cc). Opening it for reading lets it go; the byte it then
 * writes says it went. Any process may do this, from the FIFO's path in the state directory.
 */
import * as fs from 'node:fs';
import { native } from '../native/binding';

/** Owner and group read, everyone write: the container's user (any uid) opens it to write. */
export const START_FIFO_MODE = 0o622;

export function makeStartFifo(path: string): void {
  native().makeFifo(path, START_FIFO_MODE);
}

/**
 * Opens the FIFO and waits for the program's byte. Resolves true once it went on, false
 * when `isAlive()` says the process died first.
 */
export async function openStartGate(path: string, isAlive: () => boolean): Promise<boolean> {
  // Non-blocking: opening for reading never waits for a writer, which may be gone.
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const byte = Buffer.alloc(1);
    for (let attempt = 0; ; attempt++) {
      let n = 0;
      try {
        n = fs.readSync(fd, byte, 0, 1, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
      if (n === 1) return true;
      if (!isAlive()) return false;
      // The writer is woken by our open and writes at once: the first retries are quick.
      await new Promise((resolve) => (attempt < 20 ? setImmediate(resolve) : setTimeout(resolve, 2)));
    }
  } finally {
    fs.closeSync(fd);
  }
}
