/**
 * Health checks of a container that is not detached, run by the Node process that made it
 * (a detached container's monitor runs its own: native/monitor/health_check.cc). Each check is
 * an exec() of the test with no stdin and its stdout and stderr kept together; the next one
 * starts `interval` after the last ended, as docker schedules them. The timers do not keep
 * Node alive: the container's main process does that, if anything.
 */
import type { ContainerContext } from '../container/context';
import { exec } from '../container/exec';
import type { ContainerProcess } from '../process/container-process';
import type { HealthcheckConfig } from './healthcheck-options';
import { applyResult, keptOutput, startingRecord, type HealthRecord } from './health-state';
import { HEALTH_OUTPUT_MAX } from '../protocol/generated/state-files';

export class HealthRunner {
  readonly #context: ContainerContext;
  readonly #check: HealthcheckConfig;
  readonly #onChange: (record: HealthRecord) => void;
  #record: HealthRecord = startingRecord();
  #timer: NodeJS.Timeout | undefined;
  #running: ContainerProcess | undefined;
  #runStartedAt = 0;
  #stopped = false;

  constructor(context: ContainerContext, check: HealthcheckConfig, onChange: (record: HealthRecord) => void) {
    this.#context = context;
    this.#check = check;
    this.#onChange = onChange;
  }

  get record(): HealthRecord {
    return this.#record;
  }

  /** The container's program runs from now: 'starting', and the first check after one interval. */
  begin(): void {
    if (this.#stopped) return;
    this.#runStartedAt = Date.now();
    this.#record = startingRecord();
    this.#save();
    this.#onChange(this.#record);
    this.#schedule();
  }

  /** The container ended (or is destroyed): no more checks; the last status stays readable. */
  end(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running?.kill('SIGKILL');
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#runOne(), this.#check.interval);
    this.#timer.unref();
  }

  async #runOne(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    // A paused container cannot run a check: it would hang until resume() and then fail for
    // nothing the program did. The check waits for the next interval (docker does likewise).
    if (this.#frozen()) return this.#schedule();
    const start = Date.now();
    const { exitCode, output } = await this.#probe();
    if (this.#stopped) return;
    const before = this.#record.status;
    this.#record = applyResult(this.#record, { start, end: Date.now(), exitCode, output }, this.#check, this.#runStartedAt);
    this.#save();
    if (this.#record.status !== before) this.#onChange(this.#record);
    this.#schedule();
  }

  #frozen(): boolean {
    try {
      return this.#context.cgroup?.isFrozen() ?? false;
    } catch {
      return false;
    }
  }

  /** One check: its exit code (-1 when it could not run or timed out) and its output. */
  async #probe(): Promise<{ exitCode: number; output: string }> {
    let child: ContainerProcess;
    try {
      child = exec(this.#context, this.#check.argv, {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: this.#check.timeout,
        killSignal: 'SIGKILL',
      });
    } catch (error) {
      return { exitCode: -1, output: (error as Error).message };
    }
    this.#running = child;
    const chunks: Buffer[] = [];
    let length = 0;
    const keep = (chunk: Buffer): void => {
      if (length >= HEALTH_OUTPUT_MAX) return;
      chunks.push(chunk);
      length += chunk.length;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    try {
      const status = await child.wait();
      await closed;
      if (status.timedOut) return { exitCode: -1, output: `Health check exceeded timeout (${this.#check.timeout}ms)` };
      return { exitCode: status.exitCode ?? -1, output: keptOutput(Buffer.concat(chunks)) };
    } catch (error) {
      return { exitCode: -1, output: (error as Error).message };
    } finally {
      this.#running = undefined;
    }
  }

  /** For other processes (health(), list, inspect): a state file that cannot be written is not the container's failure. */
  #save(): void {
    try {
      this.#context.directory?.writeHealth(this.#record);
    } catch {
      // The state directory is gone (destroyed meanwhile): nobody can read it anyway.
    }
  }
}
