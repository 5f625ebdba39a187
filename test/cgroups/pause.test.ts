/**
 * pause / resume: a frozen container's counter stops advancing and its CPU time stands
 * still; resume lets it go on. The counter is read from the host through a bind mount,
 * since nothing can be exec'd into a frozen container.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroupTestFile, eventually, sleep, startedAndPrinted } from './support';

const { make } = cgroupTestFile('pause');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-cg-pause-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The counter's value, or null between a write and its rename (never seen: rename is atomic). */
function counter(): number | null {
  try {
    const text = fs.readFileSync(path.join(dir, 'n'), 'utf8').trim();
    return text === '' ? null : Number(text);
  } catch {
    return null;
  }
}

// Writes each value to a temp file and renames it, so the host never reads a half-written one.
const COUNTER = 'i=0; echo ready; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.02; done';

test('pause stops a counter from advancing; resume lets it go on', async () => {
  const c = make({ mounts: [{ type: 'bind', source: dir, target: '/out' }] });
  const p = c.spawn(['sh', '-c', COUNTER], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  expect(await eventually(() => (counter() ?? 0) > 3)).toBe(true);

  await c.pause();
  const frozenAt = counter();
  const cpuAt = (await c.stats()).cpu.usageNs;
  await sleep(600);
  expect(counter()).toBe(frozenAt);
  expect((await c.stats()).cpu.usageNs).toBe(cpuAt);
  // Still there, only stopped.
  expect(p.running).toBe(true);

  await c.resume();
  expect(await eventually(() => (counter() ?? 0) > (frozenAt ?? 0) + 3)).toBe(true);
  expect(p.running).toBe(true);
});

test('pause freezes exec\'d processes too', async () => {
  const c = make({ mounts: [{ type: 'bind', source: dir, target: '/out' }] });
  const main = c.spawn(['sh', '-c', 'echo ready; exec sleep 60'], { stdio: 'pipe' });
  await startedAndPrinted(main, 'ready');
  const e = c.exec(['sh', '-c', COUNTER], { stdio: 'pipe' });
  await startedAndPrinted(e, 'ready');
  expect(await eventually(() => (counter() ?? 0) > 3)).toBe(true);

  await c.pause();
  const frozenAt = counter();
  await sleep(500);
  expect(counter()).toBe(frozenAt);

  await c.resume();
  expect(await eventually(() => (counter() ?? 0) > (frozenAt ?? 0) + 3)).toBe(true);
});

test('a paused container can be destroyed: nothing is left', async () => {
  const c = make({ mounts: [{ type: 'bind', source: dir, target: '/out' }] });
  const p = c.spawn(['sh', '-c', COUNTER], { stdio: 'pipe' });
  await startedAndPrinted(p, 'ready');
  await c.pause();
  await c.destroy();
  const status = await p.wait();
  expect(status.signal).toBe('SIGKILL');
  // afterEach checks that no cgroup is left below the parent.
});
