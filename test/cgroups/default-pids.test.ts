/**
 * The default pids limit (issue 9, item 7): a container that asks for no limit still gets
 * podman's 2048 where the host has the pids controller, so that a fork bomb stops there
 * instead of filling the host's pid table; -1 asks for no limit; a host without the pids
 * controller skips the default silently (an explicit limit stays an error there).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerCgroup } from '../../lib/cgroups/container-cgroup';
import { normalizeResources } from '../../lib/cgroups/resources';
import { hostHierarchies, type Hierarchies } from '../../lib/cgroups/hierarchy';
import { DEFAULT_PIDS_LIMIT } from '../../lib/options/defaults';
import { parseCommandLine } from '../../lib/cli/program';
import { cgroupTestFile, collect, eventually, forksRefused, hostCgroupDir, insideCgroupFile, SLOW_DEADLINE_MS, onV1, pidsPeak, readHostCgroupFile, SLOW_TEST_TIMEOUT_MS } from './support';

const { parent, make } = cgroupTestFile('default-pids');

test('without resources.pids the container sees pids.max 2048 in its own cgroup', async () => {
  const c = make();
  const out = await c.spawn(['cat', insideCgroupFile('pids', 'pids.max', 'pids.max')], { stdio: 'pipe' }).output();
  expect(out).toMatchObject({ exitCode: 0, stdout: `${DEFAULT_PIDS_LIMIT}\n`, stderr: '' });
});

test('a fork bomb with no limit asked for stops at 2048 processes', async () => {
  const c = make();
  const p = c.spawn(['sh', '-c', 'bomb() { bomb | bomb & }; bomb; exec sleep 1000'], { stdio: 'pipe' });
  const stderr = collect(p.stderr);
  await p.started;
  const dir = hostCgroupDir(parent, c.id, 'pids');
  // The kernel counts each fork refused at the limit. In an emulated guest the bomb needs
  // minutes to make 2048 processes: the deadline is only for a hang.
  expect(await eventually(() => forksRefused(dir) > 0, SLOW_DEADLINE_MS, 100)).toBe(true);
  // The most it ever had (where the kernel keeps that), else the count now, which the bomb
  // keeps near the limit.
  const most = pidsPeak(dir) ?? Number(readHostCgroupFile(parent, c.id, 'pids', 'pids.current', 'pids.current'));
  expect(most).toBeLessThanOrEqual(DEFAULT_PIDS_LIMIT);
  expect(most).toBeGreaterThan(DEFAULT_PIDS_LIMIT - 100);
  // The shells say so as the kernel refuses them.
  expect(await eventually(() => /can't fork/.test(stderr.text()), SLOW_DEADLINE_MS)).toBe(true);
  await c.destroy();
  expect((await p.wait()).signal).toBe('SIGKILL');
}, SLOW_TEST_TIMEOUT_MS);

test('resources.pids -1 (or "unlimited") asks for no limit; a number still sets it', async () => {
  const file = insideCgroupFile('pids', 'pids.max', 'pids.max');
  for (const [pids, expected] of [[-1, 'max'], ['unlimited', 'max'], [100, '100']] as const) {
    const c = make({ resources: { pids } });
    const out = await c.spawn(['cat', file], { stdio: 'pipe' }).output();
    expect(out.stdout).toBe(`${expected}\n`);
    await c.destroy();
  }
  expect(parseCommandLine(['run', '--pids-limit', '-1', 'true'])).toMatchObject({ options: { resources: { pids: -1 } } });
  expect(() => normalizeResources({ pids: 0 })).toThrow(/resources\.pids/);
  expect(() => normalizeResources({ pids: -2 })).toThrow(/resources\.pids/);
});

describe('a host without the pids controller (a fake cgroup v2 tree)', () => {
  let root: string;
  let hierarchies: Hierarchies;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-default-pids-'));
    fs.mkdirSync(path.join(root, 'unified'));
    hierarchies = { unified: { mount: path.join(root, 'unified'), own: '/', controllers: ['memory'] }, v1: [] };
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('the default limit is skipped; an explicit one is an error', () => {
    const cg = ContainerCgroup.create('nopids', '/p', null, hierarchies, true, DEFAULT_PIDS_LIMIT);
    expect(fs.existsSync(path.join(cg.unifiedDir as string, 'pids.max'))).toBe(false);
    expect(() => ContainerCgroup.create('explicit', '/p', normalizeResources({ pids: 5 }), hierarchies)).toThrow(/pids controller is not available/);
  });
});

test('this host is one where the default applies', () => {
  // The real-kernel tests above are meaningless without a pids controller to limit with:
  // v1's, or cgroup v2's where this process's cgroup offers it (wherever cgroup2 is mounted).
  expect(onV1('pids') || (hostHierarchies().unified?.controllers.includes('pids') ?? false)).toBe(true);
});
