/**
 * A spawn does not wait for the sweep of what dead runs left (issue 9, items 15 and 16): the
 * sweep looks at every container below the parent, so its cost grows with their number; it
 * runs in the background instead, and a leftover is swept at once, without waiting for it to
 * age. Made deterministic with the v1 freezer: the leftover's processes are frozen, so they
 * cannot die (and the sweep cannot finish) until the test thaws them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../../lib';
import { collect, removeScripts, startScript } from '../support/node-script';
import { eventually, hierarchies, onV1, rootfs } from './support';
import { RUN_TAG } from '../support/unique';
import { testWhen } from '../support/skip';

const parent = `/tsc-test-sweep-bg-${RUN_TAG}`;
let stateRoot: string;

beforeAll(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-sweep-bg-'));
});

afterAll(() => {
  removeScripts();
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

function leftoverDirs(): string[] {
  return hierarchies()
    .map(({ hierarchy }) => path.join(hierarchy.mount, parent, 'left-behind'))
    .filter((d) => fs.existsSync(d));
}

testWhen(onV1('freezer'), 'needs the v1 freezer')('the first spawn of a process resolves while the sweep still waits; the sweep then ends the leftover', async () => {
  const dying = startScript(`
    const c = new Container({ id: 'left-behind', rootfs: ${JSON.stringify(rootfs)}, readonly: true, stateRoot: ${JSON.stringify(stateRoot)}, cgroupParent: ${JSON.stringify(parent)} });
    await c.spawn(['sleep', '1000'], { stdio: 'ignore' }).started;
    console.log('started');
    await new Promise(() => undefined);
  `);
  await new Promise<void>((resolve) => dying.stdout?.once('data', () => resolve()));
  const freezer = hierarchies().find(({ hierarchy }) => hierarchy.controllers.includes('freezer'))?.hierarchy;
  const freezerState = path.join(freezer?.mount ?? '', parent, 'left-behind', 'freezer.state');
  fs.writeFileSync(freezerState, 'FROZEN');
  dying.kill('SIGKILL');
  await collect(dying);
  try {
    const c = new Container({ rootfs, readonly: true, stateRoot, cgroupParent: parent });
    expect(await c.spawn(['true'], { stdio: 'ignore' }).wait()).toMatchObject({ exitCode: 0 });
    await c.destroy();
    // Its processes are frozen: the sweep is still waiting for them, and the spawn did not.
    expect(leftoverDirs()).toHaveLength(hierarchies().length);
  } finally {
    fs.writeFileSync(freezerState, 'THAWED');
  }
  // Thawed, they die of the sweep's SIGKILL, and it removes their cgroups, and the parent it had made.
  expect(await eventually(() => leftoverDirs().length === 0, 10_000)).toBe(true);
  expect(await eventually(() => hierarchies().every(({ hierarchy }) => !fs.existsSync(path.join(hierarchy.mount, parent))))).toBe(true);
});
