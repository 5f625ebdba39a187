/**
 * closeInBackground (native/addon/background_close.h): the fds whose last close is heavy (a
 * container's held namespaces) are closed by one thread of the process at the lowest
 * priority. Each fd given is closed in the end, the caller's thread never blocks on it, and
 * the thread runs at nice 19.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { native } from '../../lib/native/binding';

/** Whether `fd` is open in this process (its /proc/self/fd entry is there). */
function isOpen(fd: number): boolean {
  try {
    fs.readlinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, deadlineMs = 5000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return check();
}

test('every fd given is closed, those of later calls too', async () => {
  const first = [fs.openSync('/dev/null', 'r'), fs.openSync('/dev/null', 'r')];
  native().closeInBackground(first);
  const second = Array.from({ length: 200 }, () => fs.openSync('/dev/null', 'r'));
  native().closeInBackground(second);
  expect(await eventually(() => [...first, ...second].every((fd) => !isOpen(fd)))).toBe(true);
});

test('the closing thread runs at nice 19, and Node\'s own thread keeps its priority', async () => {
  native().closeInBackground([fs.openSync('/dev/null', 'r')]);
  const niceOf = (stat: string): number => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  const threads = (): number[] =>
    fs.readdirSync('/proc/self/task').map((tid) => niceOf(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
  expect(await eventually(() => threads().includes(19))).toBe(true);
  expect(niceOf(fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'))).toBe(os.getPriority());
});

test('an empty list does nothing; anything but a list of fds is a TypeError', () => {
  expect(native().closeInBackground([])).toBeUndefined();
  for (const bad of [undefined, 3, ['x'], [-1]]) {
    expect(() => native().closeInBackground(bad as never)).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^closeInBackground/) }));
  }
});
