/**
 * Container.list() time with many containers in the state root, next to `runc list` with as
 * many containers in its root, measured in the same shuffled rounds.
 *
 * A thousand real containers would take minutes to make and a thousand sleeping processes
 * to keep, so each root holds a few real containers, made by real runs (some running, some
 * stopped), and is filled up to the count with copies of a real stopped container's state
 * directory, each renamed: the directory and the "id" in its state.json. A copy is then
 * listed as any stopped container is: its files are read and its recorded pid is checked
 * against /proc. Each list is checked once (untimed) to return every container with the
 * expected statuses, so a copy that a runtime skipped or failed to read cannot make it fast.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadContainerClass, type ContainerClass, type ContainerLike } from './container-api';
import { ociRunDetached, SLEEPER } from './exec-runners';
import { reasonOf, seededRandom, shuffled, type Status } from './interleave';
import { createOciBundle, type OciBundle } from './oci-bundle';
import { errorText, now, oneLine, removeLeftoverCgroups, timedSpawn, toolMissing, withTimeout } from './runners';
import { nsToMs, quantileSorted } from './stats';

/** The real containers in each root; the rest of each count is copies of a stopped one. */
const REAL_RUNNING = 5;
const REAL_STOPPED_DETACHED = 3;
const REAL_STOPPED_ATTACHED = 2;
const REAL_RUNC_RUNNING = 5;
const REAL_RUNC_STOPPED = 5;
const COPY_PREFIX = 'copy-';

export interface ListTimeOptions {
  rootfs: string;
  /** Containers in the root for each measurement, e.g. [100, 1000]. */
  sizes: number[];
  /** Timed list calls per tool and size. */
  calls: number;
  /** Untimed calls per tool and size, after the root was filled. */
  warmup: number;
  timeoutMs: number;
  log: (line: string) => void;
}

export interface ListSpread {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  /** medianMs / count, in µs: fixed costs (a process start for runc) included. */
  perContainerUs: number;
}

export interface ListMeasurement extends Partial<ListSpread> {
  status: Status;
  reason?: string;
  /** How many containers the untimed check listed, by status. */
  statuses?: Record<string, number>;
}

export interface ListToolResult {
  name: string;
  key: string;
  status: Status;
  reason?: string;
  /** What the root holds besides the copies. */
  real: string;
  bySize: Record<number, ListMeasurement>;
  /**
   * (median at the largest count - median at the smallest) / the difference in count, in µs:
   * what one more container costs, without the fixed costs.
   */
  marginalUs: number | null;
}

export interface ListTimeResult {
  sizes: number[];
  calls: number;
  warmup: number;
  method: string;
  tools: ListToolResult[];
}

/** One tool's state root: made with real containers, filled with copies, listed. */
interface ListSide {
  readonly key: string;
  readonly name: string;
  readonly real: string;
  readonly realCount: number;
  /** Makes the root and its real containers; throws with the reason it cannot. */
  setup(): Promise<void>;
  /** Adds copies until the root holds `count` containers. */
  fillTo(count: number): void;
  /** One untimed list: throws unless it returns every container; returns them by status. */
  check(count: number): Promise<Record<string, number>>;
  /** One timed list, in ns. */
  listOnce(count: number): Promise<bigint>;
  cleanup(): Promise<void>;
}

function tally(statuses: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

/** What the check expects: the running real ones running, everything else stopped. */
function expectStatuses(got: Record<string, number>, count: number, running: number): void {
  const want: Record<string, number> = { running, stopped: count - running };
  const same = Object.keys({ ...got, ...want }).every((k) => (got[k] ?? 0) === (want[k] ?? 0));
  if (!same) throw new Error(`listed ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

class ContainerListSide implements ListSide {
  readonly key = 'container';
  readonly name = 'Container.list()';
  readonly real = `${REAL_RUNNING} running detached, ${REAL_STOPPED_DETACHED} stopped detached, ` +
    `${REAL_STOPPED_ATTACHED} stopped attached (not yet destroyed)`;
  readonly realCount = REAL_RUNNING + REAL_STOPPED_DETACHED + REAL_STOPPED_ATTACHED;
  private Container: ContainerClass | null = null;
  private root: string | null = null;
  private template: string | null = null;
  private copies = 0;
  private readonly live: ContainerLike[] = [];

  constructor(private readonly o: ListTimeOptions) {}

  async setup(): Promise<void> {
    const Container = await loadContainerClass();
    this.Container = Container;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-list-'));
    this.root = root;
    const make = (detach: boolean) => {
      const c = new Container({ rootfs: this.o.rootfs, stateRoot: root, detach });
      this.live.push(c);
      return c;
    };
    const limit = <T>(p: Promise<T>, what: string) => withTimeout(p, this.o.timeoutMs, what);
    for (let i = 0; i < REAL_RUNNING; i++) await limit(make(true).spawn(SLEEPER).started, 'detached sleep start');
    for (let i = 0; i < REAL_STOPPED_DETACHED; i++) {
      const c = make(true);
      await limit(c.spawn(['/bin/true']).wait(), 'detached /bin/true wait()');
      // The first one is the copies' template: a detached container's directory stays
      // after it stops (with its run.json), as a stopped container's does in a real root.
      this.template ??= path.join(root, c.id);
    }
    for (let i = 0; i < REAL_STOPPED_ATTACHED; i++) {
      await limit(make(false).spawn(['/bin/true'], { stdio: 'ignore' }).wait(), '/bin/true wait()');
    }
  }

  fillTo(count: number): void {
    const { root, template } = this;
    if (!root || !template) throw new Error('not set up');
    const templateState = JSON.parse(fs.readFileSync(path.join(template, 'state.json'), 'utf8')) as { id: string };
    while (this.realCount + this.copies < count) {
      const id = `${COPY_PREFIX}${String(this.copies).padStart(5, '0')}`;
      const dir = path.join(root, id);
      fs.cpSync(template, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'state.json'), `${JSON.stringify({ ...templateState, id }, null, 2)}\n`, { mode: 0o600 });
      this.copies++;
    }
  }

  async check(count: number): Promise<Record<string, number>> {
    const entries = await this.Container!.list({ stateRoot: this.root! });
    const got = tally(entries.map((e) => e.status));
    if (entries.length !== count) throw new Error(`listed ${entries.length} containers, expected ${count}`);
    expectStatuses(got, count, REAL_RUNNING);
    return got;
  }

  async listOnce(count: number): Promise<bigint> {
    const t0 = now();
    const entries = await this.Container!.list({ stateRoot: this.root! });
    const ns = now() - t0;
    if (entries.length !== count) throw new Error(`listed ${entries.length} containers, expected ${count}`);
    return ns;
  }

  async cleanup(): Promise<void> {
    for (const c of this.live.splice(0)) {
      try {
        await withTimeout(c.destroy(), this.o.timeoutMs, 'Container destroy()');
      } catch {
        // The root is removed below; what destroy() could not kill, its cgroup sweep will.
      }
    }
    if (this.root) fs.rmSync(this.root, { recursive: true, force: true });
    this.root = null;
  }
}

class RuncListSide implements ListSide {
  readonly key = 'runc';
  readonly name = 'runc list';
  readonly real = `${REAL_RUNC_RUNNING} running (run -d), ${REAL_RUNC_STOPPED} stopped (run -d of /bin/true, not deleted)`;
  readonly realCount = REAL_RUNC_RUNNING + REAL_RUNC_STOPPED;
  private root: string | null = null;
  private bundles: OciBundle[] = [];
  private readonly ids: string[] = [];
  private template: string | null = null;
  private copies = 0;
  private readonly prefix = `tscb-runclist-${process.pid}-`;

  constructor(private readonly o: ListTimeOptions) {}

  async setup(): Promise<void> {
    const missing = toolMissing('runc');
    if (missing) throw new Error(missing);
    const sleeper = createOciBundle({ rootfs: this.o.rootfs, args: SLEEPER, prefix: 'ts-container-bench-runc-list-bundle-' });
    this.bundles.push(sleeper);
    const once = createOciBundle({ rootfs: this.o.rootfs, args: ['/bin/true'], prefix: 'ts-container-bench-runc-list-bundle-' });
    this.bundles.push(once);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-runc-list-state-'));
    this.root = root;
    const start = (bundle: OciBundle, id: string) => {
      this.ids.push(id);
      const reason = ociRunDetached('runc', root, bundle.dir, id, this.o.timeoutMs);
      if (reason !== null) throw new Error(`runc run -d: ${reason}`);
    };
    for (let i = 0; i < REAL_RUNC_RUNNING; i++) start(sleeper, `${this.prefix}r${i}`);
    for (let i = 0; i < REAL_RUNC_STOPPED; i++) start(once, `${this.prefix}s${i}`);
    // runc run -d returns once /bin/true was started, not once it has exited.
    for (const id of this.ids.slice(REAL_RUNC_RUNNING)) await this.waitStopped(id);
    this.template = path.join(root, this.ids[REAL_RUNC_RUNNING]);
  }

  private async waitStopped(id: string): Promise<void> {
    const deadline = Date.now() + this.o.timeoutMs;
    for (;;) {
      const r = spawnSync('runc', ['--root', this.root!, 'state', id], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
      const status = r.status === 0 ? (JSON.parse(r.stdout.toString()) as { status?: string }).status : undefined;
      if (status === 'stopped') return;
      if (Date.now() > deadline) throw new Error(`runc container ${id} still ${status ?? r.stderr.toString().trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  fillTo(count: number): void {
    const { root, template } = this;
    if (!root || !template) throw new Error('not set up');
    // runc's state.json may hold 64-bit integers that JSON.parse would round: only the
    // leading "id" field is rewritten, as text.
    const text = fs.readFileSync(path.join(template, 'state.json'), 'utf8');
    const idField = `"id":${JSON.stringify(path.basename(template))}`;
    if (!text.startsWith(`{${idField}`)) throw new Error(`runc state.json does not start with ${idField}`);
    while (this.realCount + this.copies < count) {
      const id = `${COPY_PREFIX}${String(this.copies).padStart(5, '0')}`;
      const dir = path.join(root, id);
      fs.mkdirSync(dir, { mode: 0o711 });
      fs.writeFileSync(path.join(dir, 'state.json'), `{"id":${JSON.stringify(id)}${text.slice(idField.length + 1)}`, { mode: 0o600 });
      this.copies++;
    }
  }

  async check(count: number): Promise<Record<string, number>> {
    const r = spawnSync('runc', ['--root', this.root!, 'list', '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: this.o.timeoutMs, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`runc list: ${oneLine(r.stderr.toString()) || `exit code ${r.status}`}`);
    const entries = (JSON.parse(r.stdout.toString() || '[]') ?? []) as { status: string }[];
    const got = tally(entries.map((e) => e.status));
    if (entries.length !== count) throw new Error(`runc list showed ${entries.length} containers, expected ${count}`);
    expectStatuses(got, count, REAL_RUNC_RUNNING);
    return got;
  }

  async listOnce(): Promise<bigint> {
    // The default table format, as someone would type it; its output is not read.
    const r = await timedSpawn('runc', ['--root', this.root!, 'list'], this.o.timeoutMs);
    if (r.code !== 0) throw new Error(`runc list: exit code ${r.code}`);
    return r.ns;
  }

  async cleanup(): Promise<void> {
    if (this.root) {
      for (const id of this.ids.splice(0)) {
        spawnSync('runc', ['--root', this.root, 'delete', '-f', id], { stdio: 'ignore', timeout: 10_000 });
      }
      // The copies share the template's cgroup paths, which its delete removed: only files remain.
      fs.rmSync(this.root, { recursive: true, force: true });
    }
    this.root = null;
    removeLeftoverCgroups(this.prefix);
    for (const b of this.bundles.splice(0)) b.cleanup();
  }
}

function spread(samples: bigint[], count: number): ListSpread {
  const ms = samples.map(nsToMs).sort((a, b) => a - b);
  const medianMs = quantileSorted(ms, 0.5);
  return {
    n: ms.length,
    medianMs,
    p90Ms: quantileSorted(ms, 0.9),
    minMs: ms[0],
    maxMs: ms[ms.length - 1],
    perContainerUs: (medianMs * 1000) / count,
  };
}

export class ListTimeBench {
  private readonly sides: ListSide[];

  constructor(private readonly o: ListTimeOptions) {
    this.sides = [new ContainerListSide(o), new RuncListSide(o)];
  }

  async run(): Promise<ListTimeResult> {
    const { log } = this.o;
    const sizes = [...new Set(this.o.sizes)].sort((a, b) => a - b);
    const tools: ListToolResult[] = this.sides.map((s) => ({ name: s.name, key: s.key, status: 'ok', real: s.real, bySize: {}, marginalUs: null }));
    const ok = () => this.sides.filter((_, i) => tools[i].status === 'ok');
    const failTool = (side: ListSide, status: Status, reason: string) => {
      const t = tools[this.sides.indexOf(side)];
      t.status = status;
      t.reason = reason;
      log(`  list ${side.key}: ${status}: ${reason}`);
    };

    log(`  list section: making real containers (${this.sides.map((s) => `${s.realCount} for ${s.name}`).join(', ')})…`);
    for (const side of this.sides) {
      try {
        await side.setup();
        log(`  list ${side.key}: ready`);
      } catch (err) {
        failTool(side, 'unavailable', reasonOf(err));
      }
    }

    const random = seededRandom(0x11575);
    for (const count of sizes) {
      const samples = new Map<ListSide, bigint[]>();
      for (const side of ok()) {
        const t = tools[this.sides.indexOf(side)];
        if (count < side.realCount) {
          t.bySize[count] = { status: 'failed', reason: `fewer than the ${side.realCount} real containers` };
          continue;
        }
        try {
          side.fillTo(count);
          t.bySize[count] = { status: 'ok', statuses: await side.check(count) };
          for (let i = 0; i < this.o.warmup; i++) await side.listOnce(count);
          samples.set(side, []);
        } catch (err) {
          const reason = `${count} containers: ${reasonOf(err)}`;
          t.bySize[count] = { status: 'failed', reason };
          failTool(side, 'failed', reason);
        }
      }
      log(`  list: ${count} containers, ${samples.size} tools × ${this.o.calls}…`);
      for (let i = 0; i < this.o.calls; i++) {
        for (const side of shuffled([...samples.keys()], random)) {
          const t = tools[this.sides.indexOf(side)];
          if (t.status !== 'ok') continue;
          try {
            samples.get(side)!.push(await side.listOnce(count));
          } catch (err) {
            failTool(side, 'failed', `${count} containers, call ${i + 1}: ${reasonOf(err)}`);
          }
        }
      }
      for (const [side, ns] of samples) {
        const t = tools[this.sides.indexOf(side)];
        const m = t.bySize[count];
        if (ns.length > 0) Object.assign(m, spread(ns, count));
        if (t.status !== 'ok') Object.assign(m, { status: 'failed', reason: t.reason });
      }
    }

    for (const t of tools) {
      const first = t.bySize[sizes[0]];
      const last = t.bySize[sizes[sizes.length - 1]];
      if (sizes.length > 1 && first?.medianMs !== undefined && last?.medianMs !== undefined) {
        t.marginalUs = ((last.medianMs - first.medianMs) * 1000) / (sizes[sizes.length - 1] - sizes[0]);
      }
    }
    return {
      sizes,
      calls: this.o.calls,
      warmup: this.o.warmup,
      method: `each root: its real containers, made by real runs, plus copies of one real stopped container's ` +
        `state directory (renamed: directory and "id" in state.json) up to the count`,
      tools,
    };
  }

  /** Destroys the real containers and removes both roots; idempotent. */
  async cleanup(): Promise<void> {
    for (const side of this.sides) {
      try {
        await side.cleanup();
      } catch (err) {
        this.o.log(`warning: cleanup of list ${side.key} failed: ${oneLine(errorText(err))}`);
      }
    }
  }
}
