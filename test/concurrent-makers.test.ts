/**
 * Several Node processes making containers at once (issue 9, item 12). The default parent
 * cgroup ("ts-container" below the maker's own cgroup) used to be removed by whichever
 * process destroyed the last container in it, while another was copying cpuset values into
 * it: about 1% of makes failed with a raw ENOENT. It is now kept while its process runs and
 * removed, when empty, at that process's exit; a make that finds it gone meanwhile makes it
 * again. Makers here exit at different moments while others still make: none may fail.
 *
 * To keep the default parent of these makers apart from every other test's, each maker
 * first moves itself into a cgroup of this test's own; its default parent is below that.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collect, removeScripts, startScript } from './support/node-script';
import { hierarchies, isPureV2, rootfs } from './cgroups/support';
import { makeCgroupEverywhere, removeCgroupEverywhere } from './cgroups/foreign-cgroups';
import { RUN_TAG } from './support/unique';
import { LOOPS } from './support/loops';
import { testWhen } from './support/skip';

const own = `/tsc-test-makers-${RUN_TAG}`;
let stateRoot: string;

beforeAll(() => {
  stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-makers-'));
  makeCgroupEverywhere(own);
});

afterAll(() => {
  removeScripts();
  fs.rmSync(stateRoot, { recursive: true, force: true });
  removeCgroupEverywhere(`${own}/ts-container`);
  removeCgroupEverywhere(own);
});

/** A maker: moves itself into `own`, then makes, runs and destroys `count` containers one after another. */
function maker(count: number): ReturnType<typeof startScript> {
  return startScript(`
    const fs = await import('node:fs');
    const { hostHierarchies } = await import(${JSON.stringify(path.resolve(__dirname, '..', 'lib', 'cgroups', 'hierarchy'))});
    for (const mount of ${JSON.stringify(hierarchies().map(({ hierarchy }) => hierarchy.mount))}) {
      fs.writeFileSync(mount + ${JSON.stringify(own)} + '/cgroup.procs', String(process.pid));
    }
    if (!hostHierarchies()) throw new Error('no hierarchies');
    const failures = [];
    for (let i = 0; i < ${count}; i++) {
      try {
        const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true, stateRoot: ${JSON.stringify(stateRoot)} });
        const status = await c.spawn(['true'], { stdio: 'ignore' }).wait();
        await c.destroy();
        if (status.exitCode !== 0) failures.push('exit ' + JSON.stringify(status));
      } catch (error) {
        failures.push(String(error && error.code) + ' ' + String(error && error.message));
      }
    }
    console.log(JSON.stringify({ failures: failures.length, first: failures.slice(0, 5) }));
  `);
}

// On a pure cgroup v2 host a process in `own` would stop controllers from being enabled below it.
const onHybrid = testWhen(!isPureV2(), 'a hybrid cgroup host (on pure v2 a process in the parent blocks controllers below it)');

const { processes, containersEach } = LOOPS.concurrentMakers;

onHybrid(`${processes} processes x ${containersEach} containers each, with the default parent: zero failures, and the parent gone with the last`, async () => {
  const results = await Promise.all(Array.from({ length: processes }, () => collect(maker(containersEach), 590_000)));
  for (const result of results) {
    expect({ code: result.code, stderr: result.stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout.trim().split('\n').pop() as string)).toEqual({ failures: 0, first: [] });
  }
  // Removed, empty, by the last maker to exit.
  for (const { hierarchy } of hierarchies()) {
    const parent = path.join(hierarchy.mount, own, 'ts-container');
    expect({ parent, exists: fs.existsSync(parent) }).toEqual({ parent, exists: false });
  }
}, 600_000);
