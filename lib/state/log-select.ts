/**
 * What logs() options select, the same for a detached container's log file and for the output
 * Node recorded of an attached one: `since` (a Date or epoch ms) keeps records from that time
 * on, `tail` the last N lines of what there is when reading begins (stdout and stderr
 * together, as docker logs --tail counts them); `follow` then goes on with what comes later.
 * The readers hand over batches, the first being all there is at the start.
 */
import type { LogOptions, LogRecord } from './types';

/** The options checked: TypeErrors that name the option. */
export function checkLogOptions(options: unknown): LogOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new TypeError('logs: options: expected an object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['follow', 'since', 'tail', 'timestamps', 'signal'].includes(key)) {
      throw new TypeError(`logs: options.${key}: unknown option (expected follow, since, tail, timestamps or signal)`);
    }
  }
  // docker's --timestamps: every record carries its `time` whatever this says (the CLI's -t prints it).
  if (o.timestamps !== undefined && typeof o.timestamps !== 'boolean') throw new TypeError('logs: timestamps: expected a boolean');
  if (o.follow !== undefined && typeof o.follow !== 'boolean') throw new TypeError('logs: follow: expected a boolean');
  if (o.since !== undefined && !(o.since instanceof Date && !Number.isNaN(o.since.getTime())) && !(typeof o.since === 'number' && Number.isFinite(o.since))) {
    throw new TypeError('logs: since: expected a Date or milliseconds since the epoch');
  }
  if (o.tail !== undefined && !(typeof o.tail === 'number' && Number.isSafeInteger(o.tail) && o.tail >= 0)) {
    throw new TypeError('logs: tail: expected a number of lines (an integer >= 0)');
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError('logs: signal: expected an AbortSignal');
  return o as LogOptions;
}

/** Each record cut at its newlines (a line keeps its "\n"): one record per line. */
function lines(records: LogRecord[]): LogRecord[] {
  const out: LogRecord[] = [];
  for (const record of records) {
    if (record.stream === 'dropped') {
      out.push(record);
      continue;
    }
    let start = 0;
    for (let nl = record.data.indexOf(10); nl >= 0; nl = record.data.indexOf(10, start)) {
      out.push({ ...record, data: record.data.subarray(start, nl + 1) });
      start = nl + 1;
    }
    if (start < record.data.length) out.push({ ...record, data: record.data.subarray(start) });
  }
  return out;
}

/** The last `count` lines of the records (a line cut across records counts once per record piece). */
export function lastLines(records: LogRecord[], count: number): LogRecord[] {
  if (count === 0) return [];
  const all = lines(records);
  // A line's pieces end at the piece holding its "\n"; count those (and a last piece without one).
  let seen = 0;
  let from = all.length;
  while (from > 0) {
    const record = all[from - 1] as LogRecord;
    const endsLine = record.stream === 'dropped' || record.data[record.data.length - 1] === 10 || from === all.length;
    if (endsLine) {
      if (seen === count) break;
      seen++;
    }
    from--;
  }
  return all.slice(from);
}

/** The records the options select, from batches whose first is everything there is at the start. */
export async function* selectRecords(batches: AsyncIterable<LogRecord[]>, options: LogOptions): AsyncGenerator<LogRecord> {
  const since = options.since === undefined ? undefined : options.since instanceof Date ? options.since.getTime() : options.since;
  let first = true;
  for await (let batch of batches) {
    if (since !== undefined) batch = batch.filter((record) => record.time.getTime() >= since);
    if (first && options.tail !== undefined) batch = lastLines(batch, options.tail);
    first = false;
    yield* batch;
  }
}
