/**
 * Exec latency: one more process (`/bin/true`) started in an already running container and
 * waited for, per runtime. Each runner's setup starts one long-lived container whose main
 * process sleeps, so that a run measures exec alone and never container creation; cleanup
 * destroys it. The baseline is child_process.spawn of the same busybox binary on the host.
 *
 * `/bin/true` by absolute path everywhere, as in the spawn section: no runtime pays a PATH
 * lookup that the others skip.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadContainerClass, type ContainerClass, type ContainerLike } from './container-api';
import { createOciBundle, type OciBundle } from './oci-bundle';
import { hostLauncher, launcherFor, type ToolLauncher } from './tool-launcher';
import {
  describeExit, errorText, now, oneLine, removeLeftoverCgroups, timedSpawn, toolMissing, withTimeout,
  type Runner, type RunnerOptions,
} from './runners';

/** The main process of every container exec'd into: lives far longer than any bench run. */
export const SLEEPER = ['/bin/sleep', '3600'];
const EXECUTED = ['/bin/true'];

type Variant = 'attached' | 'detached' | 'get' | 'apart';

const VARIANTS: Record<Variant, { key: string; row: string }> = {
  attached: { key: 'container-exec', row: 'Container exec' },
  detached: { key: 'container-exec-detached', row: 'Container exec (detached)' },
  get: { key: 'container-exec-get', row: 'Container exec (Container.get)' },
  apart: { key: 'container-exec-apart', row: 'Container exec (20 ms apart)' },
};

/**
 * The 'apart' variant's pause before each exec, not timed. Execs in a CI job come apart; once
 * no process has moved between cgroups for a few milliseconds, the next move by cgroup.procs
 * (an exec's, on cgroup2) waits for an RCU grace period (README, "exec").
 */
export const EXEC_APART_MS = 20;

/**
 * `c.exec(['/bin/true'], { stdio: 'ignore' }).wait()`, timed from the exec() call to wait()
 * resolved. Variants: a container that ends with this process; a detached one (its monitor,
 * not Node, reaps the main process); and a detached one reached through Container.get(id),
 * as another process would reach it (a Container object built from the state directory).
 * Each runner has its own temporary state root, removed on cleanup.
 */
class ContainerExecRunner implements Runner {
  readonly key: string;
  readonly rows: readonly string[];
  private stateRoot: string | null = null;
  /** The Container that made the container; destroyed last. */
  private maker: ContainerLike | null = null;
  /** What exec() is called on: the maker, or the Container that get() returned. */
  private target: ContainerLike | null = null;

  constructor(
    private readonly o: RunnerOptions,
    private readonly variant: Variant,
  ) {
    this.key = VARIANTS[variant].key;
    this.rows = [VARIANTS[variant].row];
  }

  async setup(): Promise<string | null> {
    let Container: ContainerClass;
    try {
      Container = await loadContainerClass();
    } catch (err) {
      return oneLine(errorText(err));
    }
    try {
      this.stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), `ts-container-bench-${this.key}-`));
      const detach = this.variant !== 'attached';
      const c = new Container({ rootfs: this.o.rootfs, stateRoot: this.stateRoot, detach });
      this.maker = c;
      // A detached container's output goes to its log: it takes no stdio option.
      const main = detach ? c.spawn(SLEEPER) : c.spawn(SLEEPER, { stdio: 'ignore' });
      await withTimeout(main.started, this.o.timeoutMs, `${SLEEPER.join(' ')} start`);
      this.target = this.variant === 'get' ? await Container.get(c.id, { stateRoot: this.stateRoot }) : c;
      await this.runOnce();
      return null;
    } catch (err) {
      return oneLine(errorText(err));
    }
  }

  async runOnce(): Promise<bigint[]> {
    if (!this.target) throw new Error(`${this.key}: not set up`);
    if (this.variant === 'apart') await new Promise((resolve) => setTimeout(resolve, EXEC_APART_MS));
    const t0 = now();
    const st = await withTimeout(this.target.exec(EXECUTED, { stdio: 'ignore' }).wait(), this.o.timeoutMs, 'exec wait()');
    const ns = now() - t0;
    if (st.exitCode !== 0) {
      throw new Error(st.signal ? `/bin/true killed by ${st.signal}` : `/bin/true exit code ${st.exitCode}`);
    }
    return [ns];
  }

  async cleanup(): Promise<void> {
    // The found Container first, as its user would destroy it; then the maker, whose own
    // handles (the main process's exit watcher) only let go once it is destroyed too.
    for (const c of new Set([this.target, this.maker])) {
      if (!c) continue;
      try {
        await withTimeout(c.destroy(), this.o.timeoutMs, 'Container destroy()');
      } catch {
        // The state root goes below; a process left running would be a bug worth a failure
        // elsewhere, not here.
      }
    }
    this.target = null;
    this.maker = null;
    if (this.stateRoot) fs.rmSync(this.stateRoot, { recursive: true, force: true });
    this.stateRoot = null;
  }
}

/**
 * Starts `<tool> --root <root> run -d --bundle <bundle> <id>`; null once it runs, else why not.
 * `run -d` hands its own stdio to the container, which keeps it open for as long as it lives:
 * stderr goes to a file in the bundle (a pipe would not reach EOF), read back on failure.
 */
export function ociRunDetached(tool: string, root: string, bundleDir: string, id: string, timeoutMs: number): string | null {
  const errFile = path.join(bundleDir, `${id}.stderr`);
  const errFd = fs.openSync(errFile, 'w+', 0o600);
  try {
    const r = spawnSync(tool, ['--root', root, 'run', '-d', '--bundle', bundleDir, id], {
      stdio: ['ignore', 'ignore', errFd],
      timeout: timeoutMs,
    });
    if (r.error) return `${tool} run -d: ${errorText(r.error)}`;
    if (r.status === 0) return null;
    return describeExit({ ns: 0n, code: r.status, signal: r.signal, stderr: fs.readFileSync(errFile, 'utf8') });
  } finally {
    fs.closeSync(errFd);
  }
}

/**
 * `<tool> exec <id> /bin/true` into a container started with `<tool> run -d` from a bundle
 * whose process sleeps, in a private state root (--root) so that cleanup finds it. As with
 * `run`, a runtime that cannot start on the host (crun on a hybrid host) runs from a private
 * mount namespace where it can (bench/tool-launcher.ts).
 */
class OciExecRunner implements Runner {
  readonly key: string;
  readonly rows: readonly string[];
  private bundle: OciBundle | null = null;
  private stateRoot: string | null = null;
  private readonly id: string;
  private launcher: ToolLauncher = hostLauncher;

  constructor(
    private readonly tool: string,
    private readonly o: RunnerOptions,
  ) {
    this.key = `${tool}-exec`;
    this.rows = [`${tool} exec`];
    this.id = `tscb-${tool}exec-${process.pid}`;
  }

  async setup(): Promise<string | null> {
    const missing = toolMissing(this.tool);
    if (missing) return missing;
    try {
      this.bundle = createOciBundle({ rootfs: this.o.rootfs, args: SLEEPER, prefix: `ts-container-bench-${this.tool}-exec-bundle-` });
      this.stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), `ts-container-bench-${this.tool}-exec-state-`));
    } catch (err) {
      return `cannot create the OCI bundle: ${errorText(err)}`;
    }
    const found = await launcherFor(async (launcher) => {
      this.launcher = launcher;
      const reason = await this.startSleeper();
      // What a failed attempt made goes before the next one.
      if (reason !== null) await this.deleteSleeper();
      return reason;
    });
    if ('reason' in found) return found.reason;
    this.launcher = found.launcher;
    return null;
  }

  /** 'host', or where the runtime's processes run instead. */
  get where(): string {
    return this.launcher.where;
  }

  /** `run -d` of the sleeping container, then one untimed exec: null once both worked. */
  private async startSleeper(): Promise<string | null> {
    const errFile = path.join(this.bundle!.dir, `${this.id}.stderr`);
    try {
      const r = await this.launcher.run(this.tool, ['--root', this.stateRoot!, 'run', '-d', '--bundle', this.bundle!.dir, this.id], { stderrFile: errFile });
      if (r.status !== 0) return `${this.tool} run -d: ${describeExit({ ns: 0n, code: r.status, signal: null, stderr: fs.readFileSync(errFile, 'utf8') })}`;
      const e = await this.launcher.timedSpawn(this.tool, this.execArgs(), this.o.timeoutMs, true);
      return e.code === 0 ? null : `${this.tool} exec: ${describeExit(e)}`;
    } catch (err) {
      return errorText(err);
    }
  }

  private async deleteSleeper(): Promise<void> {
    if (this.stateRoot) await this.launcher.run(this.tool, ['--root', this.stateRoot, 'delete', '-f', this.id]).catch(() => undefined);
  }

  private execArgs(): string[] {
    return ['--root', this.stateRoot!, 'exec', this.id, ...EXECUTED];
  }

  async runOnce(): Promise<bigint[]> {
    if (!this.stateRoot) throw new Error(`${this.tool}: not set up`);
    const r = await this.launcher.timedSpawn(this.tool, this.execArgs(), this.o.timeoutMs);
    if (r.code !== 0) throw new Error(describeExit(r));
    return [r.ns];
  }

  async cleanup(): Promise<void> {
    if (this.stateRoot) {
      await this.deleteSleeper();
      fs.rmSync(this.stateRoot, { recursive: true, force: true });
    }
    this.stateRoot = null;
    removeLeftoverCgroups(this.id);
    this.bundle?.cleanup();
    this.bundle = null;
  }
}

export function containerExecRunner(o: RunnerOptions): Runner {
  return new ContainerExecRunner(o, 'attached');
}

export function containerApartExecRunner(o: RunnerOptions): Runner {
  return new ContainerExecRunner(o, 'apart');
}

export function containerDetachedExecRunner(o: RunnerOptions): Runner {
  return new ContainerExecRunner(o, 'detached');
}

export function containerFoundExecRunner(o: RunnerOptions): Runner {
  return new ContainerExecRunner(o, 'get');
}

export function runcExecRunner(o: RunnerOptions): Runner {
  return new OciExecRunner('runc', o);
}

export function crunExecRunner(o: RunnerOptions): Runner {
  return new OciExecRunner('crun', o);
}
