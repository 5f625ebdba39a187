/**
 * A test hook that makes crash tests deterministic: with TS_CONTAINER_TEST_PAUSE_AT set to a
 * step's name, the process that reaches that step writes the name to the file named by
 * TS_CONTAINER_TEST_PAUSE_FILE, with its pid, and then blocks for good, so that a test can kill it -9 at
 * exactly that step. Steps named "helper:..." pause the native helper instead (see the plan's
 * test.pause entry); "server:worker-cloned" stops the setup server (SIGSTOP) once it has cloned
 * a worker (native/helper/setup_server.cc). With TS_CONTAINER_TEST_RESUME_FILE set too, the process goes on once that
 * file exists, so that a test can run another process at exactly that step (a race made
 * deterministic). With TS_CONTAINER_TEST_EXIT_AT set to a step's name instead, the process
 * calls process.exit(TEST_EXIT_STATUS) there: what Node's exit handlers do at that step. Unset,
 * it costs two property reads.
 */
import * as fs from 'node:fs';
import type { PlanEntry } from '../protocol/generated/plan';

export type PauseStep =
  | 'directory-homed'
  | 'layer-homed'
  | 'directory-made'
  | 'cgroup-made'
  | 'helper-reported'
  | 'created'
  | 'start-gate-opened'
  | 'started'
  | 'directory-removing'
  | 'deferred-removal'
  | 'pod-recorded'
  | 'pod-pause-started'
  | 'network-recorded'
  | 'network-added'
  | 'network-deleting';

const PAUSE_AT = 'TS_CONTAINER_TEST_PAUSE_AT';
const PAUSE_FILE = 'TS_CONTAINER_TEST_PAUSE_FILE';
const RESUME_FILE = 'TS_CONTAINER_TEST_RESUME_FILE';
const RESUME_POLL_MS = 5;
const EXIT_AT = 'TS_CONTAINER_TEST_EXIT_AT';
/** The exit status of a process that TS_CONTAINER_TEST_EXIT_AT ended. */
export const TEST_EXIT_STATUS = 86;

export function pauseForTest(step: PauseStep): void {
  if (process.env[EXIT_AT] === step) process.exit(TEST_EXIT_STATUS);
  if (process.env[PAUSE_AT] !== step) return;
  const file = process.env[PAUSE_FILE];
  if (file) fs.writeFileSync(file, `${step} ${process.pid}\n`);
  // Blocks this thread (and so the event loop) until the test kills the process or resumes it.
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const resume = process.env[RESUME_FILE];
  if (resume) {
    while (!fs.existsSync(resume)) Atomics.wait(cell, 0, 0, RESUME_POLL_MS);
    return;
  }
  for (;;) Atomics.wait(cell, 0, 0);
}

/** The plan entries that pause the helper at a step, when a test asks for one. */
export function helperPauseEntries(): PlanEntry[] {
  const step = process.env[PAUSE_AT];
  const file = process.env[PAUSE_FILE];
  if (!step?.startsWith('helper:') || !file) return [];
  return [['test.pause', step.slice('helper:'.length)], ['test.pause_file', file]];
}
