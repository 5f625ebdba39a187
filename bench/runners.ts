/**
 * One runner per runtime. Each runner is set up once (which includes one untimed probe run,
 * so a tool that cannot start on this machine is reported with its own words), then runs
 * `true` in the busybox rootfs as often as asked, returning spawn-to-exit durations in ns.
 */
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadContainerClass, type ContainerClass, type ContainerCreateOptions, type ContainerLike } from './container-api';
import { createOciBundle, type OciBundle } from './oci-bundle';
import { hostLauncher, launcherFor, type ToolLauncher } from './tool-launcher';

export interface Runner {
  /** Short key, used in JSON and the totals table. */
  readonly key: string;
  /** The table rows one run produces, in order; runOnce returns one duration per row. */
  readonly rows: readonly string[];
  /** Prepares the runner and makes one untimed probe run. Null when usable, else the reason. */
  setup(): Promise<string | null>;
  /** One timed run. Throws when the run fails. */
  runOnce(): Promise<bigint[]>;
  /** Releases everything the runner made (bundles, state dirs, leftover containers). Idempotent. */
  cleanup(): Promise<void>;
  /** After setup: 'host', or where else its processes run (said under the table). */
  readonly where?: string;
}

/**
 * The limits of the "with limits" rows: the same for ts-container and the OCI runtimes.
 * memory 256 MiB, 128 pids, 1 CPU (quota 100 ms per 100 ms period).
 */
export const BENCH_LIMITS = { memory: '256m', pids: 128, cpus: 1 } as const;
const OCI_LIMITS = {
  memory: { limit: 256 * 1024 * 1024 },
  pids: { limit: 128 },
  cpu: { quota: 100_000, period: 100_000 },
};

interface OciVariant {
  label?: string;
  resources?: Record<string, unknown>;
  seccomp?: Record<string, unknown>;
}

export interface RunnerOptions {
  /** Absolute path of the busybox rootfs. */
  rootfs: string;
  /** Upper bound on a single run, after which it is killed and counted as a failure. */
  timeoutMs: number;
}

export const now = () => process.hrtime.bigint();

/** One line, at most `max` characters, for "unavailable: <reason>". */
export function oneLine(text: string, max = 200): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export interface TimedExit {
  ns: bigint;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Spawns a program and times it from just before spawn() to its 'exit' event. stdio is ignored,
 * unless captureStderr (the probe run), which pipes stderr; the end time is still taken at 'exit'.
 */
export function timedSpawn(file: string, args: string[], timeoutMs: number, captureStderr = false): Promise<TimedExit> {
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = captureStderr ? ['ignore', 'ignore', 'pipe'] : 'ignore';
    let stderr = '';
    let exit: TimedExit | null = null;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const start = now();
    const child = spawn(file, args, { stdio });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new Error(`${path.basename(file)} did not exit within ${timeoutMs} ms`)));
    }, timeoutMs);
    child.once('error', (err) => finish(() => reject(err)));
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 8192) stderr += d.toString(); });
    child.once('exit', (code, signal) => {
      exit = { ns: now() - start, code, signal, stderr: '' };
      if (!captureStderr) finish(() => resolve(exit!));
    });
    child.once('close', () => {
      if (exit) finish(() => resolve({ ...exit!, stderr }));
    });
  });
}

export function describeExit(r: TimedExit): string {
  const how = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  return r.stderr.trim() ? `${how}: ${oneLine(r.stderr)}` : how;
}

/** Runs a program via spawn, e.g. child_process.spawn(<rootfs>/bin/true) or bwrap. */
class CommandRunner implements Runner {
  readonly rows: readonly string[];
  constructor(
    readonly key: string,
    row: string,
    private readonly file: string,
    private readonly args: string[],
    private readonly timeoutMs: number,
  ) {
    this.rows = [row];
  }

  async setup(): Promise<string | null> {
    try {
      const r = await timedSpawn(this.file, this.args, this.timeoutMs, true);
      return r.code === 0 ? null : describeExit(r);
    } catch (err) {
      return errorText(err);
    }
  }

  async runOnce(): Promise<bigint[]> {
    const r = await timedSpawn(this.file, this.args, this.timeoutMs);
    if (r.code !== 0) throw new Error(describeExit(r));
    return [r.ns];
  }

  async cleanup(): Promise<void> {}
}

export function childProcessRunner(o: RunnerOptions): Runner {
  return new CommandRunner('child_process', 'child_process.spawn', path.join(o.rootfs, 'bin', 'true'), [], o.timeoutMs);
}

export function bwrapRunner(o: RunnerOptions): Runner {
  return new CommandRunner('bwrap', 'bwrap', 'bwrap',
    ['--ro-bind', o.rootfs, '/', '--proc', '/proc', '--dev', '/dev', '--unshare-all', '--die-with-parent', '/bin/true'],
    o.timeoutMs);
}

/** Null when `tool --version` runs; else why the tool cannot be used. */
export function toolMissing(tool: string): string | null {
  const version = spawnSync(tool, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  if (!version.error) return null;
  const code = (version.error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? `${tool} not found in PATH` : errorText(version.error);
}

/**
 * `runc run` / `crun run` on a generated bundle. Each runner has a private state root
 * (--root, a temp dir) so cleanup can find and delete anything a failed run left behind.
 * A runtime that cannot start on the host (crun on a hybrid host) runs from a private mount
 * namespace where it can (bench/tool-launcher.ts), timed the same way; `where` says so.
 */
class OciRunner implements Runner {
  readonly rows: readonly string[];
  private bundle: OciBundle | null = null;
  private stateRoot: string | null = null;
  private counter = 0;
  private readonly idPrefix: string;
  private launcher: ToolLauncher = hostLauncher;

  constructor(
    readonly key: string,
    private readonly tool: string,
    private readonly o: RunnerOptions,
    private readonly variant: OciVariant = {},
  ) {
    this.rows = [variant.label ? `${tool} run (${variant.label})` : `${tool} run`];
    this.idPrefix = `tscb-${tool}${variant.label ? variant.label.replace(/[^a-z]/g, '') : ''}-${process.pid}-`;
  }

  async setup(): Promise<string | null> {
    const missing = toolMissing(this.tool);
    if (missing) return missing;
    try {
      this.bundle = createOciBundle({
        rootfs: this.o.rootfs,
        args: ['/bin/true'],
        prefix: `ts-container-bench-${this.tool}-bundle-`,
        resources: this.variant.resources,
        seccomp: this.variant.seccomp,
      });
      this.stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), `ts-container-bench-${this.tool}-state-`));
    } catch (err) {
      return `cannot create the OCI bundle: ${errorText(err)}`;
    }
    const found = await launcherFor(async (launcher) => {
      this.launcher = launcher;
      try {
        const r = await this.run(true);
        return r.code === 0 ? null : describeExit(r);
      } catch (err) {
        return errorText(err);
      }
    });
    if ('reason' in found) return found.reason;
    this.launcher = found.launcher;
    return null;
  }

  /** 'host', or where the runtime's processes run instead. */
  get where(): string {
    return this.launcher.where;
  }

  async runOnce(): Promise<bigint[]> {
    const r = await this.run(false);
    if (r.code !== 0) throw new Error(describeExit(r));
    return [r.ns];
  }

  private async run(captureStderr: boolean): Promise<TimedExit> {
    if (!this.bundle || !this.stateRoot) throw new Error(`${this.tool}: not set up`);
    const id = `${this.idPrefix}${this.counter++}`;
    let r: TimedExit;
    try {
      r = await this.launcher.timedSpawn(this.tool, ['--root', this.stateRoot, 'run', '--bundle', this.bundle.dir, id],
        this.o.timeoutMs, captureStderr);
    } catch (err) {
      await this.forceDelete(id);
      throw err;
    }
    // `run` deletes the container when it exits; after a failure it may not have.
    if (r.code !== 0) await this.forceDelete(id);
    return r;
  }

  private async forceDelete(id: string): Promise<void> {
    if (!this.stateRoot) return;
    await this.launcher.run(this.tool, ['--root', this.stateRoot, 'delete', '-f', id]).catch(() => undefined);
  }

  async cleanup(): Promise<void> {
    if (this.stateRoot && fs.existsSync(this.stateRoot)) {
      const list = await this.launcher.run(this.tool, ['--root', this.stateRoot, 'list', '-q']).catch(() => ({ status: null, stdout: '' }));
      const ids = list.status === 0 ? list.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
      for (const id of ids) await this.forceDelete(id);
      fs.rmSync(this.stateRoot, { recursive: true, force: true });
    }
    this.stateRoot = null;
    removeLeftoverCgroups(this.idPrefix);
    this.bundle?.cleanup();
    this.bundle = null;
  }
}

/** Removes empty cgroup directories named after our container ids, in case a runtime left one. */
export function removeLeftoverCgroups(prefix: string): void {
  const root = '/sys/fs/cgroup';
  let hierarchies: string[];
  try {
    hierarchies = fs.readdirSync(root).map((d) => path.join(root, d));
  } catch {
    return;
  }
  for (const dir of [root, ...hierarchies]) {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.startsWith(prefix)) continue;
      try {
        fs.rmdirSync(path.join(dir, e));
      } catch {
        // Not empty or busy: leave it, the runtime's delete -f already had its chance.
      }
    }
  }
}

export function runcRunner(o: RunnerOptions): Runner {
  return new OciRunner('runc', 'runc', o);
}

export function crunRunner(o: RunnerOptions): Runner {
  return new OciRunner('crun', 'crun', o);
}

export function runcLimitsRunner(o: RunnerOptions): Runner {
  return new OciRunner('runc-limits', 'runc', o, { label: 'limits', resources: OCI_LIMITS });
}

export function crunLimitsRunner(o: RunnerOptions): Runner {
  return new OciRunner('crun-limits', 'crun', o, { label: 'limits', resources: OCI_LIMITS });
}

/** runc and crun with the same seccomp profile as Container's default (Docker's), in OCI form. */
export function runcSeccompRunner(o: RunnerOptions, seccomp: Record<string, unknown>): Runner {
  return new OciRunner('runc-seccomp', 'runc', o, { label: 'seccomp', seccomp });
}

export function crunSeccompRunner(o: RunnerOptions, seccomp: Record<string, unknown>): Runner {
  return new OciRunner('crun-seccomp', 'crun', o, { label: 'seccomp', seccomp });
}

interface ContainerVariant {
  label?: string;
  /** The runner's key; default container-<label>. */
  key?: string;
  options?: Omit<ContainerCreateOptions, 'rootfs'>;
  /** A third row: destroy() alone, of the container whose program has exited. */
  destroyRow?: boolean;
}

/** The row of destroy() alone: the default container (network 'none'), its program exited. */
export const DESTROY_ROW = 'Container destroy() (exited)';

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Container.spawn with the default isolation. Two rows per run: new Container → wait() resolved
 * (destroy not included), and new Container → destroy() resolved (destroy included); with
 * destroyRow, a third: wait() resolved → destroy() resolved.
 */
class ContainerRunner implements Runner {
  readonly key: string;
  readonly rows: readonly string[];
  private Container: ContainerClass | null = null;
  private readonly live = new Set<ContainerLike>();

  constructor(
    private readonly o: RunnerOptions,
    private readonly variant: ContainerVariant = {},
  ) {
    this.key = variant.key ?? (variant.label ? `container-${variant.label}` : 'container');
    const suffix = variant.label ? ` (${variant.label})` : '';
    this.rows = [`Container.spawn${suffix}`, `Container.spawn+destroy${suffix}`, ...(variant.destroyRow ? [DESTROY_ROW] : [])];
  }

  async setup(): Promise<string | null> {
    try {
      this.Container = await loadContainerClass();
    } catch (err) {
      return oneLine(errorText(err));
    }
    try {
      await this.runOnce();
      return null;
    } catch (err) {
      return oneLine(errorText(err));
    }
  }

  async runOnce(): Promise<bigint[]> {
    if (!this.Container) throw new Error('Container: not set up');
    const t0 = now();
    const c = new this.Container({ rootfs: this.o.rootfs, ...this.variant.options });
    this.live.add(c);
    let waited: bigint;
    try {
      const p = c.spawn(['/bin/true'], { stdio: 'ignore' });
      const st = await withTimeout(p.wait(), this.o.timeoutMs, 'Container wait()');
      waited = now();
      if (st.exitCode !== 0) {
        throw new Error(st.signal ? `/bin/true killed by ${st.signal}` : `/bin/true exit code ${st.exitCode}`);
      }
    } finally {
      await withTimeout(c.destroy(), this.o.timeoutMs, 'Container destroy()');
      this.live.delete(c);
    }
    const destroyed = now();
    return [waited - t0, destroyed - t0, ...(this.variant.destroyRow ? [destroyed - waited] : [])];
  }

  async cleanup(): Promise<void> {
    for (const c of this.live) {
      try {
        await withTimeout(c.destroy(), this.o.timeoutMs, 'Container destroy()');
      } catch {
        // Reported by the run that failed; nothing more to do here.
      }
    }
    this.live.clear();
  }
}

export function containerRunner(o: RunnerOptions): Runner {
  return new ContainerRunner(o, { destroyRow: true });
}

/** The host's network namespace: against the default row, what a network namespace of its own costs. */
export function containerNetworkHostRunner(o: RunnerOptions): Runner {
  return new ContainerRunner(o, { label: 'network: host', key: 'container-network-host', options: { network: 'host' } });
}

export function containerLimitsRunner(o: RunnerOptions): Runner {
  return new ContainerRunner(o, { label: 'limits', options: { resources: BENCH_LIMITS } });
}

/**
 * The default container sees its rootfs directory through an overlay with a private writable
 * layer; this one binds the directory as it is: the difference is what the overlay costs.
 */
export function containerNoOverlayRunner(o: RunnerOptions): Runner {
  return new ContainerRunner(o, { label: 'no-overlay', options: { rootfsOverlay: false } });
}

/** The default container has Docker's seccomp profile; this one runs without. */
export function containerUnconfinedRunner(o: RunnerOptions): Runner {
  return new ContainerRunner(o, { label: 'unconfined', options: { seccomp: 'unconfined' } });
}
