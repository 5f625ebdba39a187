/**
 * Container.pool(): containers made ahead, each given its program by one pool.spawn(). What a
 * user checks: output and exit codes, isolation equal to a cold container's, members hidden
 * from list() until they start, refill, the cold path when drained, per-spawn options, typed
 * errors, and nothing left after close() or after the pool's Node process is killed.
 */
import * as fs from 'node:fs';
import { Container, type ContainerPool } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { containerLeftovers, type ContainerLeftovers } from './support/container-leftovers';
import { heldNamespaceLinks, quietNamespaceLinks } from './support/namespace-fds';
import { collect, removeScripts, runScript, startScript } from './support/node-script';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { runCgroupParent } from './support/unique';

const stateRoot = tempDir('tsc-pool-state-');
const cgroupParent = runCgroupParent('pool');
const base: ContainerOptions = { stateRoot, cgroupParent };
const pools: ContainerPool[] = [];

function pool(size: number, options: ContainerOptions = {}): ContainerPool {
  const made = Container.pool({ ...base, ...options, size });
  pools.push(made);
  return made;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

afterAll(() => {
  removeScripts();
  removeTempDirs();
});

/** The ids of the containers in the state root (pool members included). */
function stateIds(root = stateRoot): string[] {
  return fs.readdirSync(root).filter((name) => !name.startsWith('.'));
}

function leftoverCount(left: ContainerLeftovers): number {
  return left.stateEntries.length + left.cgroups.length + left.processes.length + left.mounts.length;
}

/** What the containers of these ids left, once killed processes had a moment to leave their cgroups. */
async function settledLeftovers(ids: string[], root = stateRoot): Promise<ContainerLeftovers[]> {
  const all = (): ContainerLeftovers[] => ids.map((id) => containerLeftovers(id, root));
  let left = all();
  for (let waited = 0; left.some((l) => leftoverCount(l) > 0) && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = all();
  }
  return left;
}

/** The next run: a container made in the same state root and cgroup parent, whose make sweeps both. */
function sweepAfter(root: string): ReturnType<typeof runScript> {
  return runScript(`
    const c = new Container({ stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(cgroupParent)} });
    await c.spawn(['true']).wait();
    await c.destroy();
  `);
}

const nothing: ContainerLeftovers = { stateEntries: [], cgroups: [], processes: [], mounts: [] };

/**
 * Node's namespace fds that are not among `before` (those of containers made since), once they
 * are `expected` many: a process's holds close on libuv's pool after its exit, and an earlier
 * test's may still be closing.
 */
async function settledNewNamespaceFds(before: string[], expected: number): Promise<string[]> {
  const fresh = (): string[] => heldNamespaceLinks().filter((link) => !before.includes(link));
  for (let waited = 0; fresh().length !== expected && waited < 5000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return fresh();
}

/** Resolves once the container's state directory is gone (it is destroyed after 'close'). */
async function gone(id: string): Promise<boolean> {
  for (let waited = 0; waited < 5000; waited += 20) {
    if (!fs.existsSync(`${stateRoot}/${id}`)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('pool.spawn()', () => {
  test('runs the program in a container made ahead: its output and exit code', async () => {
    const p = pool(2);
    expect(await p.ready()).toBe(2);
    const members = stateIds();
    const child = p.spawn(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    // One of the members made ahead, not a new container.
    expect(members).toContain(child.container.id);
    expect(await child.output()).toMatchObject({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
    // Destroyed once its program has ended and its output was read.
    expect(await gone(child.container.id)).toBe(true);
  });

  test('isolation inside a pooled container equals a cold one: pid 1, hostname, mounts, capabilities, seccomp', async () => {
    // Everything a program can see of its isolation, with what differs per container
    // (the hostname is the container's id) replaced by a placeholder.
    const script = [
      'echo pid $$',
      'hostname',
      'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status',
      'cut -d" " -f5,9 /proc/self/mountinfo',
      'ls /proc/self/fd',
    ].join('; ');
    const p = pool(1);
    await p.ready();
    const pooled = p.spawn(['sh', '-c', script]);
    const warm = await pooled.output();
    const cold = new Container(base);
    let coldOut;
    try {
      coldOut = await cold.spawn(['sh', '-c', script]).output();
    } finally {
      await cold.destroy();
    }
    const masked = (text: string, id: string): string => text.split(id).join('<id>');
    expect(warm.exitCode).toBe(0);
    expect(warm.stdout).toMatch(/^pid 1\n/);
    expect(warm.stdout).toContain('Seccomp:\t2');
    expect(masked(warm.stdout, pooled.container.id)).toBe(masked(coldOut.stdout, cold.id));
  });

  test('each spawn is a container of its own: never one that ran a program before', async () => {
    const p = pool(2);
    await p.ready();
    const first = p.spawn(['sh', '-c', 'echo $$ > /tmp/mark; hostname']);
    const second = p.spawn(['sh', '-c', 'cat /tmp/mark 2>/dev/null || echo none; hostname']);
    const [a, b] = await Promise.all([first.output(), second.output()]);
    expect(first.container.id).not.toBe(second.container.id);
    expect(a.stdout).toBe(`${first.container.id}\n`);
    expect(b.stdout).toBe(`none\n${second.container.id}\n`);
  });

  test('env, cwd, user, stdio per spawn', async () => {
    const p = pool(3);
    await p.ready();
    const shown = await p.spawn(['sh', '-c', 'echo "$GREETING $PWD $(id -u):$(id -g)"'], { env: { GREETING: 'hello' }, cwd: '/tmp', user: '1000:1001' }).output();
    expect(shown).toMatchObject({ exitCode: 0, stdout: 'hello /tmp 1000:1001\n', stderr: '' });
    // A name, resolved in the container's own /etc/passwd.
    expect((await p.spawn(['id', '-un'], { user: 'nobody' }).output()).stdout).toBe('nobody\n');
    // stdin from Node, stdout to a file of the host, stderr ignored.
    const file = `${tempDir('tsc-pool-out-')}/out`;
    const fd = fs.openSync(file, 'w');
    const child = p.spawn(['sh', '-c', 'read line; echo "got $line"; echo hidden >&2'], { stdio: ['pipe', fd, 'ignore'] });
    fs.closeSync(fd);
    child.stdin.end('input\n');
    expect(await child.wait()).toMatchObject({ exitCode: 0 });
    expect(fs.readFileSync(file, 'utf8')).toBe('got input\n');
  });

  test('init: true: the program runs under the tiny init, and its exit code is the container\'s', async () => {
    const p = pool(1, { init: true });
    await p.ready();
    const out = await p.spawn(['sh', '-c', 'echo $$; exit 4']).output();
    expect(out).toMatchObject({ exitCode: 4, stdout: '2\n', stderr: '' });
  });

  test('tty per spawn: the program has a terminal, and it is the console', async () => {
    const p = pool(1);
    await p.ready();
    const out = await p.spawn(['sh', '-c', 'test -t 0 && test -t 1 && echo terminal; tty'], { tty: true }).output();
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe('terminal\r\n/dev/pts/0\r\n');
  });

  test.each([
    ['', {}],
    [' (init: true, where the program is forked by a tiny init)', { init: true }],
  ])('a missing program is the same typed error as from a cold spawn%s', async (_, options: ContainerOptions) => {
    const p = pool(1, options);
    await p.ready();
    const pooled = p.spawn(['/no/such/program']);
    const warmError = await pooled.wait().then(() => null, (error: Error) => error);
    const cold = new Container({ ...base, ...options });
    const coldError = await cold.spawn(['/no/such/program']).wait().then(() => null, (error: Error) => error);
    await cold.destroy();
    expect(warmError).not.toBeNull();
    expect(warmError?.constructor).toBe(coldError?.constructor);
    expect(warmError).toMatchObject({ code: 'ENOENT', message: coldError?.message });
    // The member it used goes with it.
    expect(await gone(pooled.container.id)).toBe(true);
  });
});

describe('members', () => {
  test('are hidden from list() and get() until they start', async () => {
    const p = pool(2);
    await p.ready();
    const members = stateIds();
    expect(members).toHaveLength(2);
    expect(await Container.list({ stateRoot })).toEqual([]);
    await expect(Container.get(members[0], { stateRoot })).rejects.toMatchObject({ code: 'ENOCONTAINER' });
    const child = p.spawn(['sleep', '60']);
    await child.started;
    const listed = await Container.list({ stateRoot });
    expect(listed.map((e) => [e.id, e.status])).toEqual([[child.container.id, 'running']]);
    expect((await Container.get(child.container.id, { stateRoot })).id).toBe(child.container.id);
    child.kill('SIGKILL');
    await child.wait();
  });

  test('refill in the background: after as many spawns as the size, the pool is full again', async () => {
    const p = pool(2);
    await p.ready();
    const first = stateIds();
    await Promise.all([p.spawn(['true']).wait(), p.spawn(['true']).wait()]);
    expect(await p.ready()).toBe(2);
    const members = stateIds().filter((id) => !first.includes(id));
    expect(members).toHaveLength(2);
    expect((await p.spawn(['echo', 'again']).output()).stdout).toBe('again\n');
  });

  test('a drained pool takes the cold path', async () => {
    const p = pool(1);
    await p.ready();
    // Both at once: the second finds no member waiting.
    const a = p.spawn(['echo', 'a']);
    const b = p.spawn(['echo', 'b']);
    expect(a.container.id).not.toBe(b.container.id);
    const [outA, outB] = await Promise.all([a.output(), b.output()]);
    expect([outA.stdout, outB.stdout]).toEqual(['a\n', 'b\n']);
    expect(await gone(b.container.id)).toBe(true);
  });

  test('close() leaves no cgroup, state directory or process of its members, nor an fd of them in Node', async () => {
    const heldBefore = await quietNamespaceLinks();
    const p = pool(3);
    await p.ready();
    // A member's mount and network namespaces are held from Node while it waits.
    expect(await settledNewNamespaceFds(heldBefore, 6)).toHaveLength(6);
    // ... and by its process until its exit was seen.
    const used = p.spawn(['true']);
    await used.wait();
    expect(await gone(used.container.id)).toBe(true);
    expect(await p.ready()).toBe(3);
    expect(await settledNewNamespaceFds(heldBefore, 6)).toHaveLength(6);
    const members = stateIds();
    expect(members).toHaveLength(3);
    const pids = members.map((id) => containerLeftovers(id, stateRoot).processes).flat();
    expect(pids).toHaveLength(3);
    await p.close();
    expect(await settledLeftovers(members)).toEqual(members.map(() => nothing));
    expect(await settledNewNamespaceFds(heldBefore, 0)).toEqual([]);
    expect(() => p.spawn(['true'])).toThrow(expect.objectContaining({ code: 'ECONTAINERSTATE' }));
  });

  test('await using closes the pool', async () => {
    let members: string[] = [];
    {
      await using p = Container.pool({ ...base, size: 1 });
      await p.ready();
      members = stateIds();
    }
    expect(members).toHaveLength(1);
    expect(await settledLeftovers(members)).toEqual([nothing]);
  });

  test('a Node process that ends with its pool open exits cleanly, and its members go with it', async () => {
    const root = tempDir('tsc-pool-exit-');
    // No close(): Node runs out of work with members waiting.
    const result = await runScript(`
      const pool = Container.pool({ stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(cgroupParent)}, size: 2 });
      await pool.ready();
      const fs = await import('node:fs');
      console.log(JSON.stringify(fs.readdirSync(${JSON.stringify(root)}).filter((n) => !n.startsWith('.'))));
    `);
    expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const members = JSON.parse(result.stdout) as string[];
    expect(members).toHaveLength(2);
    // Killed as Node exits, as any container of it is; what it could not remove then, the next sweep does.
    expect((await settledLeftovers(members, root)).map((l) => l.processes)).toEqual([[], []]);
    expect((await sweepAfter(root)).code).toBe(0);
    expect(await settledLeftovers(members, root)).toEqual([nothing, nothing]);
  });

  test("after kill -9 of the pool's Node process, its members die and the next sweep leaves nothing", async () => {
    const root = tempDir('tsc-pool-crash-');
    const maker = startScript(`
      const pool = Container.pool({ stateRoot: ${JSON.stringify(root)}, cgroupParent: ${JSON.stringify(cgroupParent)}, size: 2 });
      await pool.ready();
      console.log('ready');
      // Waiting members do not keep Node running (a pool is no reason to stay): a timer does,
      // until the kill. Without it the maker exited at once and took its members along.
      setInterval(() => undefined, 1 << 30);
    `);
    await new Promise<void>((resolve, reject) => {
      maker.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      maker.once('close', () => reject(new Error('the maker ended before its pool was ready')));
    });
    const members = stateIds(root);
    expect(members).toHaveLength(2);
    maker.kill('SIGKILL');
    await collect(maker);
    // Their processes die with Node (parent-death signal).
    const dead = await settledLeftovers(members, root);
    expect(dead.map((l) => l.processes)).toEqual([[], []]);
    expect((await sweepAfter(root)).code).toBe(0);
    expect(await settledLeftovers(members, root)).toEqual([nothing, nothing]);
    expect(stateIds(root)).toEqual([]);
  });
});

describe('options', () => {
  test('id is a TypeError: each member is a container of its own', () => {
    expect(() => Container.pool({ ...base, id: 'x' } as never)).toThrow(TypeError);
    expect(() => Container.pool({ ...base, id: 'x' } as never)).toThrow(/^id: /);
  });

  test.each([0, -1, 1.5, '4', 100000])('size %p is a TypeError', (size) => {
    expect(() => Container.pool({ ...base, size: size as number })).toThrow(/^size: expected a whole number/);
  });

  test('what a member made ahead cannot have is a TypeError that says why', () => {
    expect(() => Container.pool({ ...base, detach: true })).toThrow(/^detach: /);
    expect(() => Container.pool({ ...base, seccomp: { notify: { syscalls: ['mkdir'], handler: () => ({ error: 1 }) } } } as never)).toThrow(/^seccomp\.notify: /);
    expect(stateIds()).toEqual([]);
  });

  test('per spawn, only argv, env, cwd, stdio, tty and user: anything else is a TypeError naming it', async () => {
    const p = pool(1);
    await p.ready();
    expect(() => p.spawn(['true'], { timeout: 10 } as never)).toThrow(/^timeout: not an option of pool\.spawn\(\)/);
    expect(() => p.spawn(['true'], { hostname: 'x' } as never)).toThrow(/^hostname: /);
    expect(() => p.spawn([] as never)).toThrow(/^argv: /);
    // The member was not used: it serves the next spawn.
    expect(p.available).toBe(1);
    expect((await p.spawn(['echo', 'ok']).output()).stdout).toBe('ok\n');
  });
});
