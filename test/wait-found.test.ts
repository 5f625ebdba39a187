/**
 * wait() on a container found in the state root (Container.get) from another handle: the
 * exit status comes from the run record its reaper writes, even when the program ended a
 * moment before that record (a detached container's monitor writes it after reaping).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container } from '../lib/index';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { uniqueId } from './support/unique';
import { handlesSignal } from './support/leftovers';

const made: Container[] = [];
afterAll(async () => {
  await Promise.all(made.map((c) => c.destroy().catch(() => undefined)));
  removeTempDirs();
});

function runRecord(stateRoot: string, id: string): { pid: number; monitorPid: number; exited: boolean } {
  return JSON.parse(fs.readFileSync(path.join(stateRoot, id, 'run.json'), 'utf8'));
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** 'Z' once the process has exited and its parent (here, the stopped monitor) has not reaped it. */
function processState(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0];
  } catch {
    return undefined;
  }
}

test("a detached container found as its program ends: wait() gives the monitor's record, not nulls", async () => {
  const stateRoot = tempDir('tsc-wait-found-');
  const c = new Container({ id: uniqueId('wait-found'), stateRoot, detach: true });
  made.push(c);
  const main = c.spawn(['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done']);
  await main.started;
  const { pid, monitorPid } = runRecord(stateRoot, c.id);
  // As the PID 1 of its namespace, it drops a SIGTERM that comes before its trap is set.
  await until(() => handlesSignal(pid, 15));
  // The monitor cannot record the end while it is stopped: the program ends unrecorded.
  process.kill(monitorPid, 'SIGSTOP');
  try {
    c.kill('SIGTERM'); // sh ends; its exit waits for the monitor to reap it
    await until(() => processState(pid) === 'Z' || processState(pid) === undefined);
    const found = await Container.get(c.id, { stateRoot });
    const waited = found.wait();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runRecord(stateRoot, c.id).exited).toBe(false);
    process.kill(monitorPid, 'SIGCONT');
    expect(await waited).toMatchObject({ exitCode: 7, signal: null });
  } finally {
    process.kill(monitorPid, 'SIGCONT');
  }
});
