/**
 * Homes (lib/state/spread-homes.ts): on ext4, a container's writable layer, and its state
 * directory when the state root shares the data root's filesystem, are made in one of sixteen
 * homes that ext4 spread over its block groups, then moved into place. What a user sees is as
 * before: the layer under containers/<id>, the state directory under the state root, nothing
 * left in the homes once a container is made or gone, and nothing after a maker killed -9
 * between the make and the move. Elsewhere (a tmpfs) no homes are made.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import { resetDataRootSweepsForTest, sweepDataRoot } from '../lib/container/writable-layer';
import { forgetHomesForTest, HOMES_DIR } from '../lib/state/spread-homes';
import { resetSweepsForTest, sweepStateRoot } from '../lib/state/sweep';
import { processStartTime } from '../lib/state/process-identity';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { ok, useContainers } from './support/containers';
import { collect, removeScripts, startScript, waitForFile } from './support/node-script';
import { testWhen } from './support/skip';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { uniqueId } from './support/unique';

const EXT_MAGIC = 0xef53;
const rootfs = ensureBusyboxRootfs();
const onExt = fs.statfsSync(os.tmpdir()).type === EXT_MAGIC;
const extTest = testWhen(onExt, `${os.tmpdir()} is not on ext2/3/4`);
const onShm = fs.existsSync('/dev/shm') && fs.statfsSync('/dev/shm').type === 0x01021994;

let base: string;
let dataRoot: string;
let stateRoot: string;
const { make } = useContainers(() => ({ dataRoot, stateRoot }));

beforeEach(() => {
  base = tempDir('tsc-homes-');
  fs.chmodSync(base, 0o711);
  dataRoot = path.join(base, 'data');
  stateRoot = path.join(base, 'state');
  // Each test's roots are new: what this process knew of other roots' homes does not matter.
  forgetHomesForTest();
});

afterAll(() => {
  removeScripts();
  removeTempDirs();
});

const homesDir = (): string => path.join(dataRoot, HOMES_DIR);
const homeEntries = (): string[] => fs.readdirSync(homesDir()).flatMap((home) => fs.readdirSync(path.join(homesDir(), home)).map((name) => `${home}/${name}`));

/**
 * The filesystem's inodes per block group, to tell which group an inode is in: its inode count
 * (statfs) over its groups (one line each in /proc/fs/ext4/<device>/mb_groups, after a header).
 */
function inodesPerGroup(dir: string): number {
  const source = execFileSync('findmnt', ['-no', 'SOURCE', '-T', dir], { encoding: 'utf8' }).trim();
  const groups = fs.readFileSync(`/proc/fs/ext4/${path.basename(fs.realpathSync(source))}/mb_groups`, 'utf8').split('\n').filter((line) => line.startsWith('#') && !line.startsWith('#group')).length;
  return fs.statfsSync(dir).files / groups;
}

extTest('layers and state directories are made in homes spread over the block groups, then moved into place', async () => {
  // The first container makes the homes; later ones make their state directories there too.
  const made: Container[] = [];
  for (let i = 0; i < 4; i++) {
    const c = make({ rootfs, id: uniqueId(`homed-${i}`) });
    expect((await c.spawn(['true']).wait()).exitCode).toBe(0);
    made.push(c);
  }
  const c = make({ rootfs, id: uniqueId('homed-writer') });
  expect(await c.spawn(['sh', '-c', 'echo mine > /root/mine && cat /root/mine'], { stdio: 'pipe' }).output()).toMatchObject(ok('mine\n'));

  // The homes' parent carries ext4's "top of a hierarchy" flag, and its sixteen homes sit in
  // more than one block group.
  expect(execFileSync('lsattr', ['-d', homesDir()], { encoding: 'utf8' }).split(' ')[0]).toContain('T');
  const homes = fs.readdirSync(homesDir()).sort((a, b) => Number(a) - Number(b));
  expect(homes).toEqual(Array.from({ length: 16 }, (_, i) => String(i)));
  const perGroup = inodesPerGroup(base);
  expect(perGroup).toBeGreaterThan(0);
  const homeGroups = new Set(homes.map((home) => Math.floor(fs.statSync(path.join(homesDir(), home)).ino / perGroup)));
  expect(homeGroups.size).toBeGreaterThan(1);

  // The layer is where it always was, with what the container wrote; nothing stays in a home.
  expect(fs.readFileSync(path.join(dataRoot, 'containers', c.id, 'upper', 'root', 'mine'), 'utf8')).toBe('mine\n');
  expect(homeEntries()).toEqual([]);
  // Made in a home, the layer and the state directory are in a home's block group.
  const groupOf = (p: string): number => Math.floor(fs.statSync(p).ino / perGroup);
  const homeGroupList = [...homeGroups];
  expect(homeGroupList).toContain(groupOf(path.join(dataRoot, 'containers', c.id)));
  expect(homeGroupList).toContain(groupOf(path.join(stateRoot, c.id)));
  expect(JSON.parse(fs.readFileSync(path.join(stateRoot, c.id, 'state.json'), 'utf8'))).toMatchObject({ id: c.id });

  await c.destroy();
  for (const other of made) await other.destroy();
  expect(fs.existsSync(path.join(stateRoot, c.id))).toBe(false);
  expect(homeEntries()).toEqual([]);
});

extTest('the state root stays as it was: no homes in it, only the containers', async () => {
  const c = make({ rootfs, id: uniqueId('root-view-a') });
  await c.spawn(['true']).wait();
  const d = make({ rootfs, id: uniqueId('root-view-b') });
  await d.spawn(['true']).wait();
  expect(fs.readdirSync(stateRoot).sort()).toEqual([c.id, d.id].sort());
  await c.destroy();
  await d.destroy();
  // A destroyed container's directory waits under a .removing- name for its deferred removal.
  expect(fs.readdirSync(stateRoot).filter((name) => !name.startsWith('.removing-'))).toEqual([]);
});

testWhen(onShm, '/dev/shm is not a tmpfs')('on a tmpfs no homes are made, and the layer is made in place', async () => {
  const shmBase = fs.mkdtempSync('/dev/shm/tsc-homes-');
  try {
    fs.chmodSync(shmBase, 0o711);
    const shmData = path.join(shmBase, 'data');
    const c = make({ rootfs, id: uniqueId('shm'), dataRoot: shmData, stateRoot: path.join(shmBase, 'state') });
    expect(await c.spawn(['sh', '-c', 'echo x > /root/x && cat /root/x'], { stdio: 'pipe' }).output()).toMatchObject(ok('x\n'));
    expect(fs.existsSync(path.join(shmData, HOMES_DIR))).toBe(false);
    expect(fs.existsSync(path.join(shmData, 'containers', c.id, 'upper', 'root', 'x'))).toBe(true);
    await c.destroy();
  } finally {
    fs.rmSync(shmBase, { recursive: true, force: true });
  }
});

for (const step of ['layer-homed', 'directory-homed'] as const) {
  extTest(`a maker killed -9 at ${step} leaves a make in a home, which the next sweep removes`, async () => {
    // Homes exist, and the state root shares their filesystem: the next make goes there.
    const first = make({ rootfs, id: uniqueId('before-kill') });
    await first.spawn(['true']).wait();
    await first.destroy();
    const id = uniqueId(`killed-${step}`);
    const pauseFile = path.join(base, `.pause-${id}`);
    const roots = `rootfs: ${JSON.stringify(rootfs)}, dataRoot: ${JSON.stringify(dataRoot)}, stateRoot: ${JSON.stringify(stateRoot)}`;
    // A process's first layer finds the homes; its state directories go there only after that.
    const warm = step === 'directory-homed' ? `const warm = new Container({ ${roots} }); await warm.spawn(['true']).wait(); await warm.destroy();` : '';
    const maker = startScript(
      `
      ${warm}
      const c = new Container({ id: ${JSON.stringify(id)}, ${roots} });
      await c.spawn(['true']).wait();
      console.log('made');
      `,
      { TS_CONTAINER_TEST_PAUSE_AT: step, TS_CONTAINER_TEST_PAUSE_FILE: pauseFile },
    );
    const [reached, pid] = await waitForFile(pauseFile);
    expect(reached).toBe(step);
    const left = homeEntries();
    expect(left).toEqual([expect.stringMatching(new RegExp(`^\\d+/\\.making-${id}\\.\\d+\\.${pid}\\.`))]);
    process.kill(Number(pid), 'SIGKILL');
    const result = await collect(maker, 20000);
    expect(result.stdout).not.toContain('made');
    // The make in the home never took the container's name.
    expect(fs.existsSync(path.join(step === 'layer-homed' ? path.join(dataRoot, 'containers') : stateRoot, id))).toBe(false);

    // The next sweeps (of the state root, then of the data root) leave nothing of it.
    resetSweepsForTest();
    await sweepStateRoot(stateRoot);
    resetDataRootSweepsForTest();
    await sweepDataRoot(dataRoot);
    expect(homeEntries()).toEqual([]);
    expect(fs.readdirSync(stateRoot).filter((name) => name.includes(id))).toEqual([]);
    expect(fs.readdirSync(path.join(dataRoot, 'containers')).filter((name) => name.includes(id))).toEqual([]);
  });
}

extTest("the sweep keeps a make whose maker still runs, and removes one whose maker's pid now names another process", async () => {
  const c = make({ rootfs, id: uniqueId('sweep-live') });
  await c.spawn(['true']).wait();
  const ns = /\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/pid'))?.[1];
  const startTime = processStartTime(process.pid);
  const live = path.join(homesDir(), '3', `.making-live.x.${ns}.${process.pid}.${startTime}.abc`);
  // The same pid with another start time: a process since reused that pid.
  const reused = path.join(homesDir(), '4', `.making-reused.${ns}.${process.pid}.1.abc`);
  const dead = path.join(homesDir(), '5', `.making-dead.${ns}.4000000.12345.abc`);
  // A maker in another PID namespace: its pid says nothing here, its make's age does.
  const elsewhereYoung = path.join(homesDir(), '6', `.making-young.1234.4000000.12345.abc`);
  const elsewhereOld = path.join(homesDir(), '7', `.making-old.1234.4000000.12345.abc`);
  for (const dir of [live, reused, dead, elsewhereYoung, elsewhereOld]) {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'state.json'), '{}');
  }
  const old = new Date(Date.now() - 11 * 60_000);
  fs.utimesSync(elsewhereOld, old, old);
  resetDataRootSweepsForTest();
  await sweepDataRoot(dataRoot);
  expect(fs.existsSync(live)).toBe(true);
  expect(fs.existsSync(reused)).toBe(false);
  expect(fs.existsSync(dead)).toBe(false);
  expect(fs.existsSync(elsewhereYoung)).toBe(true);
  expect(fs.existsSync(elsewhereOld)).toBe(false);
  fs.rmSync(live, { recursive: true });
  fs.rmSync(elsewhereYoung, { recursive: true });
});
