/**
 * The same id made and destroyed by several Node processes at once: the only error any of
 * them may see is ContainerExistsError, destroy() never throws, and no process's removal ever
 * touches the directory another process made under the same name since.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib/index';
import { collect, removeScripts, runScript, startScript, waitForFile } from './support/node-script';
import { containerLeftovers, leftoverCount } from './support/container-leftovers';
import { RUN_TAG } from './support/unique';

let root: string;
let pauses: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-same-id-'));
  pauses = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-same-id-pauses-'));
});

afterAll(() => {
  removeScripts();
  expect(fs.readdirSync(root)).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(pauses, { recursive: true, force: true });
});

test('a destroy held between freeing the lock and removing the files never removes the next maker\'s directory', async () => {
  const id = `race-${RUN_TAG}`;
  const pauseFile = path.join(pauses, 'paused');
  const resumeFile = path.join(pauses, 'resume');
  // The first process makes the container, then destroys it and stops in the middle of the removal.
  const first = startScript(
    `
      const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(root)} });
      await c.spawn(['sleep', '1000']).started;
      await c.destroy();
      console.log('destroyed');
    `,
    { TS_CONTAINER_TEST_PAUSE_AT: 'directory-removing', TS_CONTAINER_TEST_PAUSE_FILE: pauseFile, TS_CONTAINER_TEST_RESUME_FILE: resumeFile },
  );
  const firstDone = collect(first);
  await waitForFile(pauseFile);
  // Meanwhile this process makes the same id: it must get it (the first one's is going).
  const second = new Container({ id, stateRoot: root });
  try {
    await second.spawn(['sleep', '1000']).started;
    fs.writeFileSync(resumeFile, '');
    const result = await firstDone;
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('destroyed');
    // The first process's removal went on with its own directory only.
    expect(await second.state()).toMatchObject({ id, status: 'running' });
    expect(fs.readdirSync(root)).toEqual([id]);
  } finally {
    await second.destroy();
  }
  expect(leftoverCount(containerLeftovers(id, root))).toBe(0);
});

test('several processes making and destroying one id in a loop see ContainerExistsError and nothing else', async () => {
  const id = `loop-${RUN_TAG}`;
  const script = `
    const counts = { made: 0, exists: 0, other: [] };
    for (let i = 0; i < 40; i++) {
      const c = new Container({ id: ${JSON.stringify(id)}, stateRoot: ${JSON.stringify(root)} });
      try {
        const p = c.spawn(['true']);
        await p.wait();
        counts.made++;
      } catch (error) {
        if (error.code === 'ECONTAINEREXISTS') counts.exists++;
        else counts.other.push(String(error.code) + ' ' + error.message);
      }
      try {
        await c.destroy();
      } catch (error) {
        counts.other.push('destroy: ' + String(error.code) + ' ' + error.message);
      }
    }
    console.log(JSON.stringify(counts));
  `;
  const results = await Promise.all([0, 1, 2, 3].map(() => runScript(script, {}, 120000)));
  const counts = results.map((r) => {
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { made: number; exists: number; other: string[] };
  });
  expect(counts.flatMap((c) => c.other)).toEqual([]);
  expect(counts.reduce((sum, c) => sum + c.made, 0)).toBeGreaterThan(0);
  expect(leftoverCount(containerLeftovers(id, root))).toBe(0);
}, 180000);
