/**
 * Where the bench starts an OCI runtime's processes: on the host, or, for a runtime that
 * refuses this host's cgroups, from a process in a private mount namespace.
 *
 * crun refuses a hybrid host whose cgroup2 tree (/sys/fs/cgroup/unified) holds any controller
 * ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). In a mount
 * namespace of its own, an empty file bound over that tree's cgroup.controllers makes it see
 * none; nothing changes for the host. The namespace is made once per bench run, with a small
 * Node process in it (this file, run as a program) that spawns the runtime when asked and
 * times it exactly as the host rows are timed (timedSpawn: spawn() to 'exit'). The request
 * and the answer travel over an IPC channel outside the timed span: the wrapper costs no row
 * anything. The one difference left: that process's heap is smaller than the bench's.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorText, timedSpawn, type TimedExit } from './runners';

export interface ToolLauncher {
  /** 'host', or what the runtime's processes see differently. */
  readonly where: string;
  /** Spawns and times, as timedSpawn does. */
  timedSpawn(file: string, args: string[], timeoutMs: number, captureStderr?: boolean): Promise<TimedExit>;
  /**
   * Runs to the end, untimed (delete, list): its exit status and stdout. With `stderrFile`
   * (`run -d`, whose container keeps the stdio it was given): stdout ignored, stderr into that
   * file, and done at the program's exit.
   */
  run(file: string, args: string[], options?: RunOptions): Promise<{ status: number | null; stdout: string }>;
}

export interface RunOptions {
  stderrFile?: string;
}

/** spawn() for run(): stdout piped, or with a stderr file, nothing but that file. */
function spawnToRun(file: string, args: string[], options: RunOptions): { child: ChildProcess; closeFile: () => void } {
  const fd = options.stderrFile !== undefined ? fs.openSync(options.stderrFile, 'w', 0o600) : -1;
  const child = spawn(file, args, { stdio: fd >= 0 ? ['ignore', 'ignore', fd] : ['ignore', 'pipe', 'ignore'], timeout: RUN_TIMEOUT_MS });
  return { child, closeFile: () => { if (fd >= 0) fs.closeSync(fd); } };
}

/** run() in this process: the status once the program exits (and its stdout has closed). */
function runHere(file: string, args: string[], options: RunOptions = {}): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const { child, closeFile } = spawnToRun(file, args, options);
    closeFile();
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.once('error', reject);
    // A detached container keeps the stderr file open: its maker's exit is the end.
    child.once(options.stderrFile !== undefined ? 'exit' : 'close', (status: number | null) => resolve({ status, stdout }));
  });
}

const RUN_TIMEOUT_MS = 10_000;

export const hostLauncher: ToolLauncher = {
  where: 'host',
  timedSpawn: (file, args, timeoutMs, captureStderr) => timedSpawn(file, args, timeoutMs, captureStderr),
  run: runHere,
};

/** The file crun reads to decide that a hybrid host has controllers in cgroup v2. */
export const UNIFIED_CONTROLLERS = '/sys/fs/cgroup/unified/cgroup.controllers';

/** Whether this host is hybrid with a controller in its cgroup2 tree (crun refuses it then). */
export function hybridWithV2Controllers(): boolean {
  try {
    return fs.readFileSync(UNIFIED_CONTROLLERS, 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

type Request =
  | { id: number; op: 'timed'; file: string; args: string[]; timeoutMs: number; captureStderr: boolean }
  | { id: number; op: 'run'; file: string; args: string[]; options?: RunOptions };
/** A request as the parent writes it, before it gets its id. */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;
type Reply = { id: number; error?: string; exit?: Omit<TimedExit, 'ns'> & { ns: string }; status?: number | null; stdout?: string };

const CHILD_FLAG = 'TSC_BENCH_TOOL_LAUNCHER';

/** How this process runs TypeScript (tsx's flags, absolute), for a Node process of the bench's own. */
export function typeScriptLoader(): string[] {
  return process.execArgv.length > 0 ? [...process.execArgv] : ['--import', 'tsx'];
}

/** The Node process in the private mount namespace, and the requests waiting for its answer. */
class NamespaceLauncher implements ToolLauncher {
  readonly where = `a private mount namespace with an empty file over ${UNIFIED_CONTROLLERS}`;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  readonly #emptyFile: string;
  #next = 0;
  #gone: string | null = null;

  private constructor(child: ChildProcess, emptyFile: string) {
    this.#child = child;
    this.#emptyFile = emptyFile;
    child.on('message', (reply: Reply) => {
      this.#pending.get(reply.id)?.(reply);
      this.#pending.delete(reply.id);
    });
    child.once('exit', (code, signal) => {
      this.#gone = `the namespace's process exited (${signal ?? code})`;
      for (const answer of this.#pending.values()) answer({ id: -1, error: this.#gone });
      this.#pending.clear();
    });
    // Idle between runs: it keeps the bench alive no longer than anything else does.
    this.#unref();
  }

  /** Makes the namespace and its process; resolves once the process answers. */
  static async start(): Promise<NamespaceLauncher> {
    const emptyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-ns-')), 'empty');
    fs.writeFileSync(emptyFile, '');
    // fork() gives the IPC channel; unshare and sh pass its fd on through exec.
    const child = fork(__filename, [], {
      execPath: 'unshare',
      execArgv: ['--mount', '--propagation', 'private', '--', 'sh', '-c',
        'mount --bind "$0" "$1" && shift && exec "$@"', emptyFile, UNIFIED_CONTROLLERS, process.execPath, ...typeScriptLoader()],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, [CHILD_FLAG]: '1' },
    });
    const launcher = new NamespaceLauncher(child, emptyFile);
    try {
      const r = await launcher.run('cat', [UNIFIED_CONTROLLERS]);
      if (r.status !== 0 || r.stdout.trim() !== '') throw new Error(`${UNIFIED_CONTROLLERS} is not empty in the namespace`);
    } catch (err) {
      launcher.close();
      throw err;
    }
    return launcher;
  }

  #unref(): void {
    this.#child.unref();
    (this.#child as unknown as { channel?: { unref(): void } }).channel?.unref();
  }

  #ask(request: Unnumbered<Request>): Promise<Reply> {
    if (this.#gone) return Promise.reject(new Error(this.#gone));
    const id = this.#next++;
    // While an answer is due, the channel keeps the bench alive.
    (this.#child as unknown as { channel?: { ref(): void } }).channel?.ref();
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        if (this.#pending.size <= 1) this.#unref();
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply);
      });
      this.#child.send({ ...request, id } as Request);
    });
  }

  async timedSpawn(file: string, args: string[], timeoutMs: number, captureStderr = false): Promise<TimedExit> {
    const reply = await this.#ask({ op: 'timed', file, args, timeoutMs, captureStderr });
    const exit = reply.exit!;
    return { ...exit, ns: BigInt(exit.ns) };
  }

  async run(file: string, args: string[], options?: RunOptions): Promise<{ status: number | null; stdout: string }> {
    const reply = await this.#ask({ op: 'run', file, args, options });
    return { status: reply.status ?? null, stdout: reply.stdout ?? '' };
  }

  close(): void {
    if (!this.#gone) this.#child.kill('SIGKILL');
    fs.rmSync(path.dirname(this.#emptyFile), { recursive: true, force: true });
  }
}

let shared: Promise<NamespaceLauncher> | null = null;

/** The one namespace of this bench run, made on first use; closed when the bench exits. */
export function namespaceLauncher(): Promise<ToolLauncher> {
  if (!shared) {
    shared = NamespaceLauncher.start();
    shared.then((launcher) => process.once('exit', () => launcher.close()), () => undefined);
  }
  return shared;
}

/**
 * The launcher a runtime can start from, probed with `probe` (one untimed run that returns
 * null when it worked, else why not): the host; else, on a hybrid host with cgroup2
 * controllers, the private mount namespace. The host's reason when neither works.
 */
export async function launcherFor(probe: (launcher: ToolLauncher) => Promise<string | null>): Promise<{ launcher: ToolLauncher } | { reason: string }> {
  const onHost = await probe(hostLauncher);
  if (onHost === null) return { launcher: hostLauncher };
  if (!hybridWithV2Controllers()) return { reason: onHost };
  let launcher: ToolLauncher;
  try {
    launcher = await namespaceLauncher();
  } catch (err) {
    return { reason: `${onHost}; in a private mount namespace: ${errorText(err)}` };
  }
  const inNamespace = await probe(launcher);
  return inNamespace === null ? { launcher } : { reason: `${onHost}; in a private mount namespace: ${inNamespace}` };
}

/** The process in the namespace: answers each request until its channel closes. */
function serve(): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: Request) => {
    const answer = (reply: Omit<Reply, 'id'>) => process.send?.({ ...reply, id: request.id });
    if (request.op === 'timed') {
      timedSpawn(request.file, request.args, request.timeoutMs, request.captureStderr).then(
        (exit) => answer({ exit: { ...exit, ns: String(exit.ns) } }),
        (err: unknown) => answer({ error: errorText(err) }),
      );
      return;
    }
    runHere(request.file, request.args, request.options).then(
      (r) => answer(r),
      (err: unknown) => answer({ error: errorText(err) }),
    );
  });
}

if (require.main === module && process.env[CHILD_FLAG] === '1') serve();
