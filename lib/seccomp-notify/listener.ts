/**
 * Serves one seccomp listener fd: each notification goes to the user's
 * handler, whose decision is sent back to the kernel. A handler that throws
 * or answers nonsense fails the system call with EPERM rather than letting it run.
 */
import * as fs from 'node:fs';
import { native } from '../native/binding';
import type { RawSeccompNotification } from '../../types/native';
import { NotifyBudget } from './budget';
import type { SeccompDecision, SeccompNotification, SeccompNotifyHandler } from './types';

const EPERM = 1;

export type SyscallNamer = (nr: number, arch: number) => string | undefined;

/** Reads bytes of another process's memory through /proc/<pid>/mem. */
function readMemory(pid: number, address: bigint, length: number): Buffer {
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const n = fs.readSync(fd, buffer, 0, length, address);
    return buffer.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function makeNotification(raw: RawSeccompNotification, fd: number, name: SyscallNamer): SeccompNotification {
  const checkStillWaiting = (): void => {
    // The pid could have been reused if the process died: only trust the read if it still waits.
    if (!native().seccompIdValid(fd, raw.id)) throw new Error('seccomp notification: the process is gone');
  };
  const readString = (address: bigint, maxBytes = 4096): string => {
    if (address === 0n) return '';
    const bytes = readMemory(raw.pid, address, maxBytes);
    checkStillWaiting();
    const end = bytes.indexOf(0);
    return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
  };
  const readStringArray = (address: bigint, maxEntries = 256): string[] => {
    const strings: string[] = [];
    if (address === 0n) return strings;
    const pointers = readMemory(raw.pid, address, maxEntries * 8);
    for (let i = 0; i + 8 <= pointers.length; i += 8) {
      const pointer = pointers.readBigUInt64LE(i);
      if (pointer === 0n) break;
      strings.push(readString(pointer));
    }
    return strings;
  };
  return {
    pid: raw.pid,
    syscall: name(raw.nr, raw.arch),
    nr: raw.nr,
    arch: raw.arch,
    args: raw.args,
    readString,
    readStringArray,
  };
}

function answer(fd: number, id: bigint, decision: SeccompDecision | void): void {
  try {
    send(fd, id, decision);
  } catch {
    // The listener is closed or the process is gone: nobody waits for this answer.
  }
}

function send(fd: number, id: bigint, decision: SeccompDecision | void): void {
  if (decision === undefined || decision.action === 'continue') {
    native().respondSeccomp(fd, id, 0, 0n, true);
  } else if (decision.action === 'errno' && Number.isInteger(decision.errno) && decision.errno > 0 && decision.errno < 4096) {
    native().respondSeccomp(fd, id, -decision.errno, 0n, false);
  } else if (decision.action === 'value') {
    native().respondSeccomp(fd, id, 0, BigInt.asUintN(64, BigInt(decision.value)), false);
  } else {
    native().respondSeccomp(fd, id, -EPERM, 0n, false);
  }
}

/**
 * Serves the listener until every process under the filter has exited; then closes it. The
 * container's budget bounds how many of its notifications one event-loop turn serves.
 */
export function serveSeccompListener(
  fd: number,
  handler: SeccompNotifyHandler,
  name: SyscallNamer,
  onError: (e: Error) => void,
  budget: NotifyBudget = new NotifyBudget(),
): () => void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    budget.delete(watcher);
    watcher.close();
    native().closeFd(fd);
  };
  const watcher = native().watchSeccomp(
    fd,
    (raw) => {
      budget.spend();
      let result: ReturnType<SeccompNotifyHandler>;
      try {
        result = handler(makeNotification(raw, fd, name));
      } catch (error) {
        onError(error as Error);
        answer(fd, raw.id, { action: 'errno', errno: EPERM });
        return;
      }
      Promise.resolve(result).then(
        (decision) => !closed && answer(fd, raw.id, decision),
        (error: Error) => {
          onError(error);
          if (!closed) answer(fd, raw.id, { action: 'errno', errno: EPERM });
        },
      );
    },
    close,
  );
  budget.add(watcher);
  return close;
}
