/**
 * child_process.spawn from a Node process that loads nothing else. libuv starts a child with
 * fork(), which copies the calling process's page tables: the call's time grows with the
 * caller's resident memory (here about 6 ms from a 50 MB Node process and 10 ms from a 640 MB
 * one, on the host bench/host-conditions.ts calls slow at making processes). The bench's own
 * child_process.spawn row forks the bench process, with the library, its runners and their
 * results loaded; this row is the same call from the smallest Node process there is, a
 * long-lived child of the bench that spawns `true` on each request and times it as
 * timedSpawn() does (spawn() to 'exit'), so that a reader sees both ends of what
 * child_process.spawn costs a program here. Container.spawn forks nothing in Node's process
 * (its setup server makes each container), so its time does not grow with Node's memory.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { errorText, oneLine, withTimeout, type Runner, type RunnerOptions } from './runners';

export const SMALL_NODE_ROW = 'child_process.spawn (small Node)';
/** The runner's key, in the JSON and the totals. */
export const SMALL_NODE_KEY = 'child_process-small';

/**
 * The spawner: each line on stdin is a request; it answers `<ns> <exit code>` for a spawn of
 * the file in argv[1], or `rss <bytes>` for the line `rss`.
 */
const SPAWNER = `
const { spawn } = require('node:child_process');
const file = process.argv[1];
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf('\\n')) >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (line === 'rss') { process.stdout.write('rss ' + process.memoryUsage().rss + '\\n'); continue; }
    const start = process.hrtime.bigint();
    const child = spawn(file, [], { stdio: 'ignore' });
    child.once('error', (e) => process.stdout.write('error ' + String(e.message).replace(/\\n/g, ' ') + '\\n'));
    child.once('exit', (code) => process.stdout.write((process.hrtime.bigint() - start) + ' ' + code + '\\n'));
  }
});
`;

class SmallNodeRunner implements Runner {
  readonly key = SMALL_NODE_KEY;
  readonly rows = [SMALL_NODE_ROW] as const;
  private child: ChildProcessWithoutNullStreams | null = null;
  private answers: AsyncIterator<string> | null = null;
  /** The spawner's resident memory after its probe run, in bytes. */
  rssBytes: number | null = null;

  constructor(private readonly o: RunnerOptions) {}

  private async ask(line: string): Promise<string> {
    if (!this.child || !this.answers) throw new Error('the spawner is not running');
    this.child.stdin.write(`${line}\n`);
    const next = await withTimeout(this.answers.next(), this.o.timeoutMs, 'the small Node spawner');
    if (next.done) throw new Error('the small Node spawner exited');
    return next.value;
  }

  async setup(): Promise<string | null> {
    try {
      const child = spawn(process.execPath, ['-e', SPAWNER, path.join(this.o.rootfs, 'bin', 'true')], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
      this.answers = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      try {
        await this.runOnce();
      } catch (err) {
        return oneLine(`${errorText(err)}${stderr ? `: ${stderr}` : ''}`);
      }
      const rss = await this.ask('rss');
      this.rssBytes = Number(rss.split(' ')[1]);
      return null;
    } catch (err) {
      return errorText(err);
    }
  }

  async runOnce(): Promise<bigint[]> {
    const answer = await this.ask('spawn');
    const [ns, code] = answer.split(' ');
    if (ns === 'error' || code !== '0') throw new Error(`child_process.spawn in the small Node process: ${answer}`);
    return [BigInt(ns)];
  }

  async cleanup(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    child.kill('SIGKILL');
    await exited;
  }
}

export function smallNodeRunner(o: RunnerOptions): SmallNodeRunner {
  return new SmallNodeRunner(o);
}

export type { SmallNodeRunner };
