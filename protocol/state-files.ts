/**
 * What the monitor of a detached container writes and any process reads, declared once:
 * the state directory's file names, the fields of run.json and the log's frame header.
 * scripts/generate-protocol.ts writes them into lib/protocol/generated/state-files.ts
 * (read by lib/state/container-directory.ts and log-file.ts) and
 * native/common/generated/state_files.h (written by native/monitor/run_record.cc and
 * log_writer.cc).
 */

/** The files of a container's state directory (lib/state/container-directory.ts says what each holds). */
export const STATE_FILES = {
  lock: 'lock',
  state: 'state.json',
  config: 'config.json',
  run: 'run.json',
  startFifo: 'exec.fifo',
  started: 'started',
  stopRequested: 'stop-requested',
  log: 'container.log',
  health: 'health.json',
} as const;

/**
 * health.json, written by whoever runs a container's health checks (its monitor when detached,
 * else the Node process that made it): `{"status":"starting"|"healthy"|"unhealthy",
 * "failingStreak":N,"log":[{"start":ms,"end":ms,"exitCode":N,"output":"..."}]}`, the log
 * holding the last HEALTH_LOG_SIZE results, oldest first.
 */
export const HEALTH_RECORD = {
  logSize: 5,
  /** Bytes of a check's output kept, as docker keeps. */
  outputMax: 4096,
} as const;

export interface RunRecordField {
  /** The JSON name. */
  name: string;
  type: 'int' | 'string' | 'bool';
  /** null when the fact is not known (yet). */
  nullable?: boolean;
  /** Left out of the JSON when there is nothing to say. */
  optional?: boolean;
  description: string;
}

/** run.json, in the order the monitor writes it. */
export const RUN_RECORD_FIELDS: readonly RunRecordField[] = [
  { name: 'pid', type: 'int', description: "the container's main process (host pid)" },
  { name: 'startTime', type: 'string', description: 'its start time (field 22 of /proc/<pid>/stat): tells a reused pid apart' },
  { name: 'startedAt', type: 'int', nullable: true, description: 'when it started (ms since the epoch); null until start()' },
  { name: 'finishedAt', type: 'int', nullable: true, description: 'when it ended; null while it runs' },
  { name: 'exited', type: 'bool', description: 'the run is over' },
  { name: 'exitCode', type: 'int', nullable: true, description: 'its exit code when it exited by itself' },
  { name: 'signal', type: 'int', nullable: true, description: 'the signal number that ended it' },
  { name: 'restartCount', type: 'int', description: 'how many times the monitor restarted it' },
  { name: 'monitorPid', type: 'int', description: 'the monitor (host pid)' },
  { name: 'monitorStartTime', type: 'string', description: "the monitor's start time" },
  { name: 'error', type: 'string', optional: true, description: 'why a restart could not start the container' },
];

/**
 * The log: frames of "<stream> <unix ms> <length>\n" followed by exactly <length> bytes.
 * A "dropped" frame's bytes are the decimal count of output bytes the monitor could not write.
 */
export const LOG_FRAME = {
  streams: ['stdout', 'stderr', 'dropped'],
  /** Between the header's fields. */
  separator: ' ',
  /** Ends the header. */
  terminator: '\n',
} as const;
