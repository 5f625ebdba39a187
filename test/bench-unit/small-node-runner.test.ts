/**
 * The bench's child_process.spawn from a small Node process (bench/small-node-runner.ts): a
 * real Node child that spawns a real program on each request. No container runs here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { smallNodeRunner } from '../../bench/small-node-runner';

const liveChildren = (): number[] => {
  const children = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(' ').map(Number);
};

describe('child_process.spawn from a small Node process', () => {
  it('times each spawn of the program in its own process, says how much memory it holds, and leaves no process', async () => {
    const before = liveChildren();
    const runner = smallNodeRunner({ rootfs: '/', timeoutMs: 10_000 });
    try {
      expect(await runner.setup()).toBeNull();
      const [ns] = await runner.runOnce();
      expect(ns).toBeGreaterThan(0n);
      // Below a second: a spawn of true, not a Node start.
      expect(ns).toBeLessThan(1_000_000_000n);
      expect(runner.rssBytes).toBeGreaterThan(1 << 20);
      expect(liveChildren().length).toBe(before.length + 1);
    } finally {
      await runner.cleanup();
    }
    expect(liveChildren()).toEqual(before);
  });

  it("reports a program that cannot start as the runner's reason, in the words of the spawn", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-container-bench-unit-'));
    const runner = smallNodeRunner({ rootfs: empty, timeoutMs: 10_000 });
    try {
      expect(await runner.setup()).toMatch(/ENOENT/);
    } finally {
      await runner.cleanup();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
