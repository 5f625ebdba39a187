/**
 * `ts-container stats [--no-stream] [ID...]`: what running containers use, as `docker stats`
 * shows it: a new reading each second until Ctrl-C (redrawn in place on a terminal), or one
 * with --no-stream. CPU is a rate, so each reading is two samples apart: half a second for
 * --no-stream, the whole second while streaming. Without ids, every running container, looked
 * up again at each reading.
 */
import type { CgroupStats } from '../../cgroups/stats';
import { Container } from '../../container/container';
import type { StatsCommand } from '../parsed';
import { onInterrupt, openContainer, reportFailure, type CommandIO } from './common';
import { formatTable } from './format';

const ONE_READING_SAMPLE_MS = 500;
const STREAM_SAMPLE_MS = 1000;
/** Clear the screen and go home, as docker stats redraws on a terminal. */
const REDRAW = '\x1b[2J\x1b[H';

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)}${units[unit]}`;
}

interface Reading {
  id: string;
  cpuPercent: number;
  stats: CgroupStats;
}

function row(r: Reading): string[] {
  const { memory, pids, io } = r.stats;
  return [
    r.id,
    `${r.cpuPercent.toFixed(2)}%`,
    `${bytes(memory.current)} / ${memory.limit === null ? 'no limit' : bytes(memory.limit)}`,
    memory.limit === null ? '-' : `${((100 * memory.current) / memory.limit).toFixed(2)}%`,
    `${pids.current}${pids.limit === null ? '' : ` / ${pids.limit}`}`,
    `${bytes(io.readBytes)} / ${bytes(io.writeBytes)}`,
  ];
}

const HEADER = ['ID', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS', 'BLOCK I/O'];

/** The ids to read now: those given, or every running container of the state root. */
async function currentIds(cmd: StatsCommand): Promise<string[]> {
  if (cmd.ids.length > 0) return cmd.ids;
  const entries = await Container.list(cmd.stateRoot === undefined ? {} : { stateRoot: cmd.stateRoot });
  return entries.filter((e) => e.status === 'running' || e.status === 'paused').map((e) => e.id).sort();
}

/**
 * One reading of each id, sampled `sampleMs` apart; a container that cannot be read (unknown,
 * stopped) is reported once and left out from then on (`failed`).
 */
async function readAll(cmd: StatsCommand, io: CommandIO, sampleMs: number, failed: Map<string, number>, sleep: (ms: number) => Promise<void>): Promise<Reading[]> {
  const ids = (await currentIds(cmd)).filter((id) => !failed.has(id));
  const first = new Map<string, { container: Container; before: CgroupStats }>();
  for (const id of ids) {
    try {
      const container = await openContainer(id, cmd.stateRoot);
      first.set(id, { container, before: await container.stats() });
    } catch (err) {
      failed.set(id, reportFailure(io, id, err));
    }
  }
  const start = process.hrtime.bigint();
  await sleep(sampleMs);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const readings: Reading[] = [];
  for (const [id, { container, before }] of first) {
    try {
      const stats = await container.stats();
      // 100% is one CPU busy for the whole sample, as docker counts it.
      readings.push({ id, cpuPercent: (100 * (stats.cpu.usageNs - before.cpu.usageNs)) / elapsedNs, stats });
    } catch (err) {
      failed.set(id, reportFailure(io, id, err));
    }
  }
  return readings;
}

function show(cmd: StatsCommand, io: CommandIO, readings: Reading[], redraw: boolean): void {
  if (cmd.json) {
    io.stdout.write(cmd.stream ? `${JSON.stringify(readings)}\n` : `${JSON.stringify(readings, null, 2)}\n`);
    return;
  }
  if (!cmd.stream && readings.length === 0) return;
  io.stdout.write(`${redraw ? REDRAW : ''}${formatTable(HEADER, readings.map(row))}`);
}

export async function statsCommand(cmd: StatsCommand, io: CommandIO): Promise<number> {
  const failed = new Map<string, number>();
  const firstFailure = (): number => [...failed.values()][0] ?? 0;
  if (!cmd.stream) {
    show(cmd, io, await readAll(cmd, io, ONE_READING_SAMPLE_MS, failed, (ms) => new Promise((r) => setTimeout(r, ms))), false);
    return firstFailure();
  }
  // Until Ctrl-C (or SIGTERM): the sleep between samples ends early then, and so does the loop.
  let interrupted = false;
  let wake: (() => void) | undefined;
  const removeHandlers = onInterrupt(io, () => {
    interrupted = true;
    wake?.();
  });
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const redraw = (io.stdout as { isTTY?: boolean }).isTTY === true && !cmd.json;
  try {
    while (!interrupted) {
      const readings = await readAll(cmd, io, STREAM_SAMPLE_MS, failed, sleep);
      // Containers named on the command line that can no longer be read: nothing left to show.
      if (interrupted || (cmd.ids.length > 0 && cmd.ids.every((id) => failed.has(id)))) break;
      show(cmd, io, readings, redraw);
    }
  } finally {
    removeHandlers();
  }
  return firstFailure();
}
