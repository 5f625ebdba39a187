/**
 * `ts-container stats ID...`: one reading of what running containers use, as `docker stats
 * --no-stream` shows it. CPU is a rate, so it is measured: two readings half a second apart.
 */
import type { CgroupStats } from '../../cgroups/stats';
import type { StatsCommand } from '../parsed';
import { forEachId, openContainer, type CommandIO } from './common';
import { formatTable } from './format';

const CPU_SAMPLE_MS = 500;

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

export async function statsCommand(cmd: StatsCommand, io: CommandIO): Promise<number> {
  const readings: Reading[] = [];
  const status = await forEachId(io, cmd.ids, async (id) => {
    const container = await openContainer(id, cmd.stateRoot);
    const before = await container.stats();
    const start = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, CPU_SAMPLE_MS));
    const stats = await container.stats();
    const elapsedNs = Number(process.hrtime.bigint() - start);
    // 100% is one CPU busy for the whole sample, as docker counts it.
    readings.push({ id, cpuPercent: (100 * (stats.cpu.usageNs - before.cpu.usageNs)) / elapsedNs, stats });
  });
  if (cmd.json) io.stdout.write(`${JSON.stringify(readings, null, 2)}\n`);
  else if (readings.length > 0) io.stdout.write(formatTable(['ID', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS', 'BLOCK I/O'], readings.map(row)));
  return status;
}
