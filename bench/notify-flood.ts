/**
 * The notify section of `npm run bench`: how late Node's timers run while one container
 * floods seccomp notifications (issue 9, item 11). A chain of 1 ms timers runs first with no
 * container (the baseline), then while `flooders` processes exec'd into one container call
 * mkdir (a notified system call) as fast as the handler answers. Each timer's lateness (when
 * it ran minus when it was due) is a sample; the table shows both distributions.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize, type Summary } from './stats';

const FIXTURE = path.resolve(__dirname, '..', 'test', 'security', 'fixtures', 'notify-flood.c');
const EEXIST = 17;
const TIMER_MS = 1;

export interface NotifyFloodResult {
  flooders: number;
  callsPerFlooder: number;
  served: number;
  floodMs: number;
  idle: Summary;
  flood: Summary;
}

export interface NotifyFloodOptions {
  rootfs: string;
  flooders: number;
  calls: number;
  log: (line: string) => void;
}

/** Samples timer lateness (ns) until `done` resolves. */
async function timerLateness(done: Promise<unknown>): Promise<bigint[]> {
  const samples: bigint[] = [];
  let running = true;
  void done.finally(() => (running = false));
  while (running) {
    const due = process.hrtime.bigint() + BigInt(TIMER_MS * 1e6);
    await new Promise((resolve) => setTimeout(resolve, TIMER_MS));
    const late = process.hrtime.bigint() - due;
    samples.push(late > 0n ? late : 0n);
  }
  return samples;
}

export async function measureNotifyFlood(options: NotifyFloodOptions): Promise<NotifyFloodResult> {
  const { Container } = await import('../lib');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-notify-'));
  fs.chmodSync(dir, 0o755);
  const binDir = path.join(dir, 'bin');
  fs.mkdirSync(binDir, { mode: 0o755 });
  execFileSync('cc', ['-static', '-O1', '-o', path.join(binDir, 'notify-flood'), FIXTURE]);
  let served = 0;
  // Every mkdir fails with EEXIST, answered from this event loop.
  const answer = () => {
    served++;
    return { action: 'errno' as const, errno: EEXIST };
  };
  const fixtures = { type: 'bind' as const, source: binDir, target: '/fixtures', readonly: true };
  const notify = { syscalls: ['mkdir', 'mkdirat'], handler: answer };
  const c = new Container({ rootfs: options.rootfs, readonly: true, stateRoot: path.join(dir, 'state'), mounts: [fixtures], seccomp: { profile: 'default', notify } });
  try {
    options.log('  notify section: timer lateness, idle…');
    const idle = await timerLateness(new Promise((resolve) => setTimeout(resolve, 1000)));
    const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await main.started;
    options.log(`  notify section: timer lateness while ${options.flooders} processes flood notifications…`);
    const t0 = process.hrtime.bigint();
    const flood = Promise.all(
      Array.from({ length: options.flooders }, () => c.exec(['/fixtures/notify-flood', String(options.calls)], { stdio: 'pipe' }).output()),
    );
    const during = await timerLateness(flood);
    await flood;
    const floodMs = Number(process.hrtime.bigint() - t0) / 1e6;
    return { flooders: options.flooders, callsPerFlooder: options.calls, served, floodMs, idle: summarize(idle), flood: summarize(during) };
  } finally {
    await c.destroy().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatNotifyFlood(r: NotifyFloodResult): string {
  const row = (name: string, s: Summary) =>
    `  ${name.padEnd(34)} n=${String(s.n).padStart(6)}  median ${s.medianMs.toFixed(3)} ms  p95 ${s.p95Ms.toFixed(3)} ms  max ${s.maxMs.toFixed(3)} ms`;
  return [
    `  ${r.served} notifications from ${r.flooders} processes in ${r.floodMs.toFixed(0)} ms (${((r.served / r.floodMs) * 1000).toFixed(0)}/s)`,
    row('1 ms timer lateness, idle', r.idle),
    row('1 ms timer lateness, during flood', r.flood),
  ].join('\n');
}
