/**
 * Spawn-to-exit of `true` on a bridge network against `network: 'none'`, interleaved, in a
 * test host of its own (never the machine's network namespace); the issue's target is at most
 * 15 ms more at the median, the CNI plugins' own exec time included. Container-to-container
 * throughput and the podman row are not measured yet.
 *
 *   npx tsx bench/network-spawn.ts [--rounds N] [--json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib/container/container';
import { Network } from '../lib/networks/network';
import { ensureBusyboxRootfs } from '../test/support/busybox-rootfs';
import { runInTestHost } from '../test/support/test-host';

export interface NetworkSpawnResult {
  rounds: number;
  noneMedianMs: number;
  bridgeMedianMs: number;
  addedMs: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs inside the test host (test/support/test-host.ts calls it). */
export async function measure({ rounds }: { rounds: number }): Promise<NetworkSpawnResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-net-'));
  const dataRoot = path.join(dir, 'data');
  fs.mkdirSync(dataRoot, { mode: 0o700 });
  const base = { rootfs: ensureBusyboxRootfs(), dataRoot, stateRoot: path.join(dir, 'state'), cgroupParent: `/tsc-bench-net-${process.pid}` };
  const network = await Network.create({ name: 'bench', dataRoot });
  const once = async (net: string): Promise<number> => {
    const c = new Container({ ...base, network: net });
    const start = performance.now();
    await c.spawn(['true']).wait();
    const ms = performance.now() - start;
    await c.destroy();
    return ms;
  };
  try {
    for (let i = 0; i < 3; i++) await Promise.all([once('none'), once('bench')]);
    const none: number[] = [];
    const bridge: number[] = [];
    for (let i = 0; i < rounds; i++) {
      none.push(await once('none'));
      bridge.push(await once('bench'));
    }
    const noneMedianMs = median(none);
    const bridgeMedianMs = median(bridge);
    return { rounds, noneMedianMs, bridgeMedianMs, addedMs: bridgeMedianMs - noneMedianMs };
  } finally {
    await network.remove({ force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatNetworkSpawn(r: NetworkSpawnResult): string {
  return [
    `spawn-to-exit on a bridge network, median of ${r.rounds} (own network namespace):`,
    `  network none    ${r.noneMedianMs.toFixed(1)} ms`,
    `  bridge network  ${r.bridgeMedianMs.toFixed(1)} ms  (+${r.addedMs.toFixed(1)} ms; target: at most +15 ms) ${r.addedMs <= 15 ? 'met' : 'NOT met'}`,
  ].join('\n');
}

if (require.main === module) {
  const i = process.argv.indexOf('--rounds');
  const rounds = i >= 0 ? Number(process.argv[i + 1]) : 25;
  runInTestHost<NetworkSpawnResult>(__filename, 'measure', { rounds }, 600_000).then(
    (r) => console.log(process.argv.includes('--json') ? JSON.stringify(r) : formatNetworkSpawn(r)),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
