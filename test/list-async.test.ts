/**
 * Container.list() does no synchronous I/O (issue 9, item 16): with many containers it must
 * not block Node's event loop. Every synchronous call of node:fs is made to fail while list()
 * runs, and list() still reports each container with its status read from the kernel.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import { rootfs } from './cgroups/support';
import { runCgroupParent, uniqueId } from './support/unique';

let stateRoot: string;

beforeAll(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-list-async-'));
});

afterAll(() => {
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

/** Runs `body` with every fs.*Sync function throwing; returns the names of those called. */
async function withoutSyncFs<T>(body: () => Promise<T>): Promise<{ result: T; called: string[] }> {
  const called: string[] = [];
  const originals = new Map<string, unknown>();
  // The module object itself (the import above is a namespace of getters over it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const target = require('node:fs') as Record<string, unknown>;
  for (const name of Object.keys(target)) {
    if (!name.endsWith('Sync') || typeof target[name] !== 'function') continue;
    originals.set(name, target[name]);
    target[name] = () => {
      called.push(name);
      throw new Error(`synchronous ${name} during list()`);
    };
  }
  try {
    return { result: await body(), called };
  } finally {
    for (const [name, original] of originals) target[name] = original;
  }
}

test('list() reads every container without a synchronous fs call, statuses included', async () => {
  const common = { rootfs, readonly: true, stateRoot, cgroupParent: runCgroupParent('list') };
  const running = new Container({ ...common, id: uniqueId('running') });
  const paused = new Container({ ...common, id: uniqueId('paused') });
  const created = new Container({ ...common, id: uniqueId('created') });
  const stopped = new Container({ ...common, id: uniqueId('stopped'), detach: true });
  try {
    await running.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    await paused.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    await paused.pause();
    await created.create(['true'], { stdio: 'ignore' });
    await stopped.spawn(['true']).started;
    await stopped.wait();
    fs.mkdirSync(path.join(stateRoot, 'corrupt'));
    fs.writeFileSync(path.join(stateRoot, 'corrupt', 'state.json'), '{');

    const { result, called } = await withoutSyncFs(() => Container.list({ stateRoot }));
    expect(called).toEqual([]);
    expect(result.map((e) => [e.id, e.status])).toEqual([
      ['corrupt', 'unknown'],
      [uniqueId('created'), 'created'],
      [uniqueId('paused'), 'paused'],
      [uniqueId('running'), 'running'],
      [uniqueId('stopped'), 'stopped'],
    ]);
    expect(result.find((e) => e.id === uniqueId('stopped'))).toMatchObject({ exitCode: 0, startedAt: expect.any(String) });
  } finally {
    fs.rmSync(path.join(stateRoot, 'corrupt'), { recursive: true, force: true });
    await paused.resume().catch(() => undefined);
    await Promise.all([running, paused, created, stopped].map((c) => c.destroy()));
  }
});
