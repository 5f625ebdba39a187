/**
 * The network section of `npm run bench` (--only network), all in a test host of its own
 * (never the machine's network namespace):
 * - spawn-to-exit of `true` on a bridge network against `network: 'none'`, taking turns; the
 *   issue's target is at most 15 ms more at the median, the CNI plugins' own exec time
 *   included. Next to it, where podman runs, `podman run --network bridge` (its default
 *   bridge) against `--network none` on an image imported from the same busybox rootfs, with
 *   a private --root/--runroot;
 * - container-to-container TCP throughput over the bridge against loopback inside one
 *   container's namespace (the same busybox nc and dd on both sides); target: at least 0.7x.
 *   The sender is dd writing 64 KiB blocks straight into the socket (`nc -e dd`), as a bulk
 *   sender (iperf3, a file server) writes. Piped through nc instead, every write is 1 KiB
 *   (busybox nc's copy buffer): at MTU 1500 then each write is about one packet (the MSS
 *   caps what Nagle coalesces), while over lo's 64 KiB MSS some 60 writes share one, so that
 *   row measures the packet rate of small writes, not the bridge (0.2x at 1500, 1x at 65520,
 *   with the same rules; kept as a second row, not the target's).
 *
 *   npx tsx bench/network-spawn.ts [--rounds N] [--json]
 */
import { execFileSync, spawnSync } from 'node:child_process';
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
  /** podman's rows, or why there are none. */
  podman: { noneMedianMs: number; bridgeMedianMs: number; addedMs: number } | { unavailable: string };
  /** 64 KiB writes (the target's row). */
  throughput: Throughput;
  /** 1 KiB writes, dd piped through busybox nc. */
  throughputSmallWrites: Throughput;
  /** Both over a network made with mtu 65520 (the default is 1500, as docker's). */
  throughputMtu65520: Throughput;
  throughputSmallWritesMtu65520: Throughput;
}

type Throughput = { bytes: number; bridgeMBps: number; loopbackMBps: number; ratio: number } | { unavailable: string };
/** How the client writes: 64 KiB blocks into the socket itself, or 1 KiB ones through nc's copy loop. */
type Writer = 'bulk' | 'small';

const SPAWN_TARGET_MS = 15;
const THROUGHPUT_TARGET_RATIO = 0.7;
/** Bytes sent per throughput run: enough that the exec around it is noise. */
const THROUGHPUT_BYTES = 256 * 1024 * 1024;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** podman with a private store, run in the test host; or why it cannot run here. */
function podmanRunner(rootfs: string, dir: string): { run: (network: string) => number } | { unavailable: string } {
  const which = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' });
  if (which.status !== 0) return { unavailable: 'podman is not installed' };
  const base = ['--root', path.join(dir, 'podman-root'), '--runroot', path.join(dir, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  const image = 'localhost/tsc-bench-busybox:latest';
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 1 << 30 });
  const load = spawnSync('podman', [...base, 'import', '-', image], { input: tar.stdout, encoding: 'utf8' });
  if (load.status !== 0) return { unavailable: `podman import: ${load.stderr.trim().split('\n').pop()}` };
  const argv = (network: string) => [...base, 'run', '--rm', '--network', network, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, 'true'];
  const probe = spawnSync('podman', argv('bridge'), { encoding: 'utf8' });
  if (probe.status !== 0) return { unavailable: `podman run: ${probe.stderr.trim().split('\n').pop()}` };
  return {
    run(network: string): number {
      const start = performance.now();
      const r = spawnSync('podman', argv(network), { encoding: 'utf8' });
      const ms = performance.now() - start;
      if (r.status !== 0) throw new Error(`podman run --network ${network}: ${r.stderr}`);
      return ms;
    },
  };
}

/** MB/s of THROUGHPUT_BYTES sent by `client` to `host`:port, timed around the client's exec. */
async function sendTimed(client: Container, host: string, port: number, writer: Writer): Promise<number> {
  const ready = await client.exec(['sh', '-c', `for i in $(seq 100); do nc ${host} ${port} </dev/null 2>/dev/null && exit 0; sleep 0.05; done; exit 1`]).wait();
  if (ready.exitCode !== 0) throw new Error(`throughput: nothing listens at ${host}:${port}`);
  const dd = `dd if=/dev/zero bs=65536 count=${THROUGHPUT_BYTES / 65536} 2>/dev/null`;
  // nc -e puts the socket on dd's stdout (its stderr stays the exec's).
  const command = writer === 'bulk' ? `exec nc ${host} ${port} -e sh -c 'exec ${dd}'` : `${dd} | nc ${host} ${port}`;
  const start = performance.now();
  const out = await client.exec(['sh', '-c', command], { stdio: 'pipe' }).output();
  const seconds = (performance.now() - start) / 1000;
  if (out.exitCode !== 0) throw new Error(`throughput client: exit ${out.exitCode}: ${out.stderr}`);
  return THROUGHPUT_BYTES / 1e6 / seconds;
}

/** Over the bridge (server and client in two containers) and over lo (both in one), taking turns. */
async function measureThroughput(base: object, network: string): Promise<Record<Writer, Throughput>> {
  const server = new Container({ ...base, network: { name: network, aliases: ['sink'] } });
  const client = new Container({ ...base, network });
  try {
    await Promise.all([server.spawn(['sleep', '1000']).started, client.spawn(['sleep', '1000']).started]);
    // The readiness probes are connections too: the sink accepts any number (-ll) and discards.
    const sinkPort = 5001;
    server.exec(['nc', '-ll', '-p', String(sinkPort), '-e', 'sh', '-c', 'cat >/dev/null']);
    client.exec(['nc', '-ll', '-p', String(sinkPort), '-e', 'sh', '-c', 'cat >/dev/null']);
    const result = {} as Record<Writer, Throughput>;
    for (const writer of ['bulk', 'small'] as const) {
      const bridge: number[] = [];
      const loopback: number[] = [];
      for (let i = 0; i < 3; i++) {
        bridge.push(await sendTimed(client, 'sink', sinkPort, writer));
        loopback.push(await sendTimed(client, '127.0.0.1', sinkPort, writer));
      }
      const bridgeMBps = median(bridge);
      const loopbackMBps = median(loopback);
      result[writer] = { bytes: THROUGHPUT_BYTES, bridgeMBps, loopbackMBps, ratio: bridgeMBps / loopbackMBps };
    }
    return result;
  } finally {
    await Promise.allSettled([server.destroy(), client.destroy()]);
  }
}

/** Runs inside the test host (test/support/test-host.ts calls it). */
export async function measure({ rounds }: { rounds: number }): Promise<NetworkSpawnResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-net-'));
  const dataRoot = path.join(dir, 'data');
  fs.mkdirSync(dataRoot, { mode: 0o700 });
  const rootfs = ensureBusyboxRootfs();
  const base = { rootfs, dataRoot, stateRoot: path.join(dir, 'state'), cgroupParent: `/tsc-bench-net-${process.pid}` };
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
    const podman = podmanRunner(rootfs, dir);
    for (let i = 0; i < 3; i++) {
      await once('none');
      await once('bench');
      if ('run' in podman) podman.run('bridge');
    }
    const none: number[] = [];
    const bridge: number[] = [];
    const podmanNone: number[] = [];
    const podmanBridge: number[] = [];
    for (let i = 0; i < rounds; i++) {
      none.push(await once('none'));
      bridge.push(await once('bench'));
      if ('run' in podman) {
        podmanNone.push(podman.run('none'));
        podmanBridge.push(podman.run('bridge'));
      }
    }
    const noneMedianMs = median(none);
    const bridgeMedianMs = median(bridge);
    const podmanResult: NetworkSpawnResult['podman'] =
      'run' in podman ? { noneMedianMs: median(podmanNone), bridgeMedianMs: median(podmanBridge), addedMs: median(podmanBridge) - median(podmanNone) } : podman;
    const throughputOn = async (name: string): Promise<Record<Writer, Throughput>> => {
      try {
        return await measureThroughput(base, name);
      } catch (error) {
        const unavailable = { unavailable: (error as Error).message.split('\n')[0] };
        return { bulk: unavailable, small: unavailable };
      }
    };
    const standard = await throughputOn(network.name);
    const jumbo = await Network.create({ name: 'bench-mtu', mtu: 65520, dataRoot });
    const large = await throughputOn(jumbo.name).finally(() => jumbo.remove({ force: true }));
    return {
      rounds,
      noneMedianMs,
      bridgeMedianMs,
      addedMs: bridgeMedianMs - noneMedianMs,
      podman: podmanResult,
      throughput: standard.bulk,
      throughputSmallWrites: standard.small,
      throughputMtu65520: large.bulk,
      throughputSmallWritesMtu65520: large.small,
    };
  } finally {
    await network.remove({ force: true });
    try {
      execFileSync('podman', ['--root', path.join(dir, 'podman-root'), '--runroot', path.join(dir, 'podman-run'), 'system', 'reset', '--force'], { stdio: 'ignore' });
    } catch {
      // podman absent, or nothing to reset
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatNetworkSpawn(r: NetworkSpawnResult): string {
  const lines = [
    `Network (in a test host namespace): spawn-to-exit of true, median of ${r.rounds}:`,
    `  ts-container network none  ${r.noneMedianMs.toFixed(1)} ms`,
    `  ts-container bridge        ${r.bridgeMedianMs.toFixed(1)} ms  (+${r.addedMs.toFixed(1)} ms; target: at most +${SPAWN_TARGET_MS} ms) ${r.addedMs <= SPAWN_TARGET_MS ? 'met' : 'NOT met'}`,
  ];
  if ('unavailable' in r.podman) lines.push(`  podman: unavailable: ${r.podman.unavailable}`);
  else {
    lines.push(`  podman --network none       ${r.podman.noneMedianMs.toFixed(1)} ms`);
    lines.push(`  podman --network bridge     ${r.podman.bridgeMedianMs.toFixed(1)} ms  (+${r.podman.addedMs.toFixed(1)} ms)`);
  }
  const rows = [
    ['mtu 1500 (default), 64 KiB writes', r.throughput, true],
    ['mtu 65520, 64 KiB writes', r.throughputMtu65520, true],
    ['mtu 1500 (default), 1 KiB writes', r.throughputSmallWrites, false],
    ['mtu 65520, 1 KiB writes', r.throughputSmallWritesMtu65520, false],
  ] as const;
  for (const [label, t, target] of rows) {
    if ('unavailable' in t) lines.push(`TCP throughput, ${label}: unavailable: ${t.unavailable}`);
    else {
      const verdict = target
        ? `(target: at least ${THROUGHPUT_TARGET_RATIO}x) ${t.ratio >= THROUGHPUT_TARGET_RATIO ? 'met' : 'NOT met'}`
        : '(packet rate of small writes; no target)';
      lines.push(
        `TCP throughput, ${label}, ${t.bytes / 1024 / 1024} MiB, median of 3: bridge (container to container) ${t.bridgeMBps.toFixed(0)} MB/s, ` +
          `loopback (one namespace) ${t.loopbackMBps.toFixed(0)} MB/s: ${t.ratio.toFixed(2)}x ${verdict}`,
      );
    }
  }
  return lines.join('\n');
}

/** The section as run.ts runs it: in a test host of its own. */
export function measureNetworkIsolated(rounds: number): Promise<NetworkSpawnResult> {
  return runInTestHost<NetworkSpawnResult>(__filename, 'measure', { rounds }, 900_000);
}

if (require.main === module) {
  const i = process.argv.indexOf('--rounds');
  const rounds = i >= 0 ? Number(process.argv[i + 1]) : 25;
  measureNetworkIsolated(rounds).then(
    (r) => console.log(process.argv.includes('--json') ? JSON.stringify(r) : formatNetworkSpawn(r)),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
