/**
 * Nothing leaks: many containers started and destroyed leave no mount, process, zombie,
 * namespace, open fd or temporary file behind, whether they exit on their own, are
 * destroyed while running (with execs), run concurrently, or use the host-root default.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Container } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import {
  assertNothingLeft,
  childProcesses,
  ownNamespaces,
  snapshot,
  Snapshot,
  waitNamespacesGone,
  ticksNow,
  waitPidGone,
} from './support/leftovers';
import { RUN_TAG } from './support/unique';

const rootfs = ensureBusyboxRootfs();
let bindSource: string;
let before: Snapshot;

beforeAll(async () => {
  bindSource = fs.mkdtempSync(path.join(os.tmpdir(), 'cleanup-bind-'));
  fs.writeFileSync(path.join(bindSource, 'f'), 'bound\n');
  // Warm up: the first container may open long-lived handles (libuv, the addon) that are not leaks.
  const c = new Container({ rootfs, readonly: true });
  const p = c.spawn(['sleep', '30'], { stdio: 'pipe' });
  await once(p, 'spawn');
  await c.exec(['true']).output();
  await c.destroy();
});

afterAll(() => {
  fs.rmSync(bindSource, { recursive: true, force: true });
});

beforeEach(() => {
  before = snapshot();
});

function options(i: number): ContainerOptions {
  return {
    id: `cleanup-${RUN_TAG}-${i}`,
    rootfs,
    readonly: true,
    mounts: [
      { type: 'bind', source: bindSource, target: '/work', readonly: true },
      { type: 'tmpfs', target: '/mnt', size: '1m' },
    ],
  };
}

/**
 * Namespaces of destroyed containers, each with the moment its container was destroyed:
 * namespace numbers are reused, so only a process older than that moment can be a leftover
 * holder (a later one is in a new namespace of another test's).
 */
type EndedNamespaces = { links: string[]; destroyedAt: number };

async function expectNamespacesGone(ended: EndedNamespaces[]): Promise<void> {
  for (const { links, destroyedAt } of ended) expect(await waitNamespacesGone(links, 5000, destroyedAt)).toEqual([]);
}

test('50 containers started, run to exit and destroyed leave nothing behind', async () => {
  const namespaces: EndedNamespaces[] = [];
  for (let i = 0; i < 50; i++) {
    const c = new Container(options(i));
    const p = c.spawn(['sh', '-c', 'cat /work/f; echo $$ > /mnt/pid; read x; cat /mnt/pid'], { stdio: 'pipe' });
    await once(p, 'spawn');
    const links = i % 10 === 0 ? ownNamespaces(p.pid!) : [];
    if (i % 5 === 0) {
      expect(await c.exec(['cat', '/work/f']).output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'bound\n', stderr: '' });
    }
    p.stdin!.end('go\n');
    expect(await p.output()).toMatchObject({ exitCode: 0, signal: null, stdout: 'bound\n1\n', stderr: '' });
    await c.destroy();
    if (links.length > 0) namespaces.push({ links, destroyedAt: ticksNow() });
  }
  // Each sampled container had its own pid, mnt, uts, ipc, net and cgroup namespaces.
  expect(namespaces.flatMap((n) => n.links).length).toBe(5 * 6);
  await assertNothingLeft(before);
  await expectNamespacesGone(namespaces);
});

test('50 containers destroyed while running, with execs, leave nothing behind', async () => {
  const pids: number[] = [];
  const namespaces: EndedNamespaces[] = [];
  for (let i = 0; i < 50; i++) {
    const c = new Container(options(100 + i));
    const p = c.spawn(['sleep', '60'], { stdio: 'pipe' });
    await once(p, 'spawn');
    pids.push(p.pid!);
    const links = i % 10 === 0 ? ownNamespaces(p.pid!) : [];
    if (i % 3 === 0) {
      const e = c.exec(['sleep', '60'], { stdio: 'pipe' });
      await once(e, 'spawn');
      pids.push(e.pid!);
    }
    await c.destroy();
    if (links.length > 0) namespaces.push({ links, destroyedAt: ticksNow() });
    expect(await p.wait()).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  }
  for (const pid of pids) expect([pid, await waitPidGone(pid)]).toEqual([pid, true]);
  await assertNothingLeft(before);
  await expectNamespacesGone(namespaces);
});

test('containers running concurrently, then destroyed together', async () => {
  const cs = Array.from({ length: 10 }, (_, i) => new Container(options(200 + i)));
  const ps = cs.map((c) => c.spawn(['sh', '-c', 'echo up; exec sleep 60'], { stdio: 'pipe' }));
  const outputs = ps.map((p) => p.output());
  // Each has printed "up": all ten run at the same time.
  await Promise.all(ps.map((p) => new Promise((resolve) => p.stdout!.on('data', resolve))));
  await Promise.all(ps.map((p) => (p.pid === undefined ? once(p, 'spawn') : undefined)));
  const hostPids = ps.map((p) => p.pid!);
  expect(new Set(hostPids).size).toBe(10);
  // Each has its own PID namespace, in which it is PID 1.
  for (const pid of hostPids) {
    expect(/^NSpid:\s*\d+\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]).toBe('1');
  }
  await Promise.all(cs.map((c) => c.destroy()));
  for (const r of await Promise.all(outputs)) expect(r).toMatchObject({ exitCode: null, signal: 'SIGKILL', stdout: 'up\n', stderr: '' });
  for (const pid of hostPids) expect([pid, await waitPidGone(pid)]).toEqual([pid, true]);
  await assertNothingLeft(before);
});

test('destroy releases stdio pipes that were never read', async () => {
  for (let i = 0; i < 5; i++) {
    const c = new Container({ rootfs, readonly: true });
    const p = c.spawn(['sh', '-c', 'echo unread-out; echo unread-err >&2; exec sleep 60'], { stdio: 'pipe' });
    await once(p, 'spawn');
    await new Promise((r) => setTimeout(r, 50));
    await c.destroy();
  }
  await assertNothingLeft(before);
});

test('host-root containers in a loop leave nothing behind', async () => {
  for (let i = 0; i < 20; i++) {
    const c = new Container({ id: `cleanup-host-${RUN_TAG}-${i}` });
    expect(await c.spawn(['sh', '-c', 'echo $$ > /tmp/x; cat /tmp/x'], { stdio: 'pipe' }).output()).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: '1\n',
      stderr: '',
    });
    await c.destroy();
  }
  await assertNothingLeft(before);
});

test('containers with a user namespace, a time namespace and an init leave nothing behind', async () => {
  const namespaces: EndedNamespaces[] = [];
  for (let i = 0; i < 10; i++) {
    const c = new Container({ ...options(300 + i), userns: true, timens: true, init: i % 2 === 0 });
    const p = c.spawn(['sleep', '60'], { stdio: 'ignore' });
    await once(p, 'spawn');
    const links = i < 2 ? ownNamespaces(p.pid!) : [];
    await c.destroy();
    if (links.length > 0) namespaces.push({ links, destroyedAt: ticksNow() });
  }
  expect(namespaces.flatMap((n) => n.links).length).toBeGreaterThanOrEqual(2 * 8);
  await assertNothingLeft(before);
  await expectNamespacesGone(namespaces);
});

test('no zombie is left after processes exit on their own (no destroy)', async () => {
  const cs: Container[] = [];
  for (let i = 0; i < 10; i++) {
    const c = new Container({ rootfs, readonly: true });
    cs.push(c);
    expect(await c.spawn(['true'], { stdio: 'ignore' }).wait()).toMatchObject({ exitCode: 0, signal: null });
  }
  // Exited and reaped even before destroy: no child of this process remains, zombie or not.
  const deadline = Date.now() + 5000;
  while (childProcesses().length > before.children.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(childProcesses().filter((s) => !before.children.some((c) => c.startsWith(`${s.pid} `)))).toEqual([]);
  await Promise.all(cs.map((c) => c.destroy()));
  await assertNothingLeft(before);
});

test('a Node program that exits without destroy leaves no container process', async () => {
  const script = `
    const { Container } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib'))});
    const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true });
    const p = c.spawn(['sleep', '60'], { stdio: 'ignore' });
    p.on('spawn', () => { process.stdout.write(String(p.pid) + '\\n'); process.exit(0); });
  `;
  const tsx = path.resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const { stdout } = await promisify(execFile)(tsx, ['-e', script], { timeout: 30000 });
  const pid = Number(stdout.trim());
  expect(pid).toBeGreaterThan(1);
  expect(await waitPidGone(pid)).toBe(true);
  await assertNothingLeft(before);
});
