/**
 * User namespaces take their ids from ts-container's own range in /etc/subuid and /etc/subgid
 * (issue 9, item 4). `userns: true` used to map container root to host uid 100000-165535: the
 * range Debian's useradd gives the first regular user, who can become those ids with the
 * setuid newuidmap, then signal the container's processes and write into its rootfs. Here a
 * user is made with useradd, and each id of its range is tried (setpriv, as root, stands for
 * what newuidmap lets the user become) against a running `userns: true` container.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import type { ContainerOptions } from '../../lib';
import { ID_BLOCK_SIZE, isIdBlockTaken } from '../../lib/userns/id-blocks';
import { reservedRanges, RESERVED_RANGE_SIZE } from '../../lib/userns/subordinate-ids';
import { cleanup, make, rootfsCopy, tempDir } from './support';
import { collect, removeScripts, startScript, waitForFile } from '../support/node-script';

afterEach(cleanup);

const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-userns-ids-state-'));
const user = `tsc${randomBytes(4).toString('hex')}`;

interface Range {
  start: number;
  count: number;
}

function rangesOf(file: string, owner: string): Range[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length === 3 && f[0] === owner)
    .map((f) => ({ start: Number(f[1]), count: Number(f[2]) }));
}

/** Which block of ts-container's range a container's first host uid is. */
const blockIndex = (uidStart: number) => (uidStart - reservedRanges().uid.start) / ID_BLOCK_SIZE;

const overlaps = (a: Range, b: Range) => a.start < b.start + b.count && b.start < a.start + a.count;

beforeAll(() => {
  // A regular user as useradd makes one: it gets the first free subordinate range.
  execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
});

afterAll(() => {
  removeScripts();
  spawnSync('userdel', [user]);
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

/** The uid and gid maps of a running process, read on the host. */
function mapsOf(pid: number): { uid: Range; gid: Range } {
  const read = (file: string) => {
    const [inside, start, count] = fs.readFileSync(`/proc/${pid}/${file}`, 'utf8').trim().split(/\s+/).map(Number);
    expect(inside).toBe(0);
    return { start, count };
  };
  return { uid: read('uid_map'), gid: read('gid_map') };
}

/** Runs a command as host uid and gid `id` (no groups); true when it succeeded. */
function asHostId(id: number, argv: string[]): boolean {
  return spawnSync('setpriv', [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', ...argv], { stdio: 'ignore' }).status === 0;
}

/** A userns: true container whose root made /made-by-root in its rootfs and now sleeps. */
async function runningContainer(opts: ContainerOptions = {}) {
  const rootfs = rootfsCopy('userns-ids');
  // Its root (an unmapped host root owns the copy) may make /made-by-root.
  fs.chmodSync(rootfs, 0o777);
  // Written straight into the copy (no overlay): the host then sees what container root made.
  const c = make({ rootfs, stateRoot, userns: true, readonly: false, rootfsOverlay: false, ...opts });
  const p = c.spawn(['sh', '-c', 'mkdir /made-by-root && echo ready && exec sleep 1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  while (!out.includes('ready')) await once(p.stdout!, 'data');
  return { c, p, rootfs, maps: mapsOf(p.pid!) };
}

test('the first user\'s subordinate ids cannot reach a userns: true container: no overlap, no signal, no write', async () => {
  const [userUids] = rangesOf('/etc/subuid', user);
  const [userGids] = rangesOf('/etc/subgid', user);
  expect(userUids).toBeDefined();
  const { p, rootfs, maps } = await runningContainer();
  expect(maps.uid.count).toBe(65536);
  expect(overlaps(maps.uid, userUids)).toBe(false);
  expect(overlaps(maps.gid, userGids)).toBe(false);
  // No user of the host has any of these ids.
  for (const line of fs.readFileSync('/etc/subuid', 'utf8').split('\n').filter(Boolean)) {
    const [owner, start, count] = line.split(':');
    if (owner !== 'ts-container') expect(overlaps(maps.uid, { start: Number(start), count: Number(count) })).toBe(false);
  }
  const data = path.join(rootfs, 'made-by-root');
  // Control: the container root's own host id can do both, so the probes below mean something.
  expect(asHostId(maps.uid.start, ['kill', '-0', String(p.pid)])).toBe(true);
  expect(asHostId(maps.uid.start, ['touch', path.join(data, 'by-container-root')])).toBe(true);
  for (const id of [userUids.start, userUids.start + 1000, userUids.start + userUids.count - 1]) {
    expect(asHostId(id, ['kill', '-0', String(p.pid)])).toBe(false);
    expect(asHostId(id, ['touch', path.join(data, `intruder-${id}`)])).toBe(false);
  }
  expect(fs.readdirSync(data)).toEqual(['by-container-root']);
});

test('concurrent containers get distinct blocks of ts-container\'s range, and a destroyed one gives its block back', async () => {
  const running = await Promise.all([0, 1, 2, 3].map(() => runningContainer()));
  const { uid: ownUids, gid: ownGids } = reservedRanges();
  expect(ownUids.count).toBeGreaterThanOrEqual(RESERVED_RANGE_SIZE);
  for (const [i, a] of running.entries()) {
    expect(a.maps.uid.start).toBeGreaterThanOrEqual(ownUids.start);
    expect(a.maps.uid.start + a.maps.uid.count).toBeLessThanOrEqual(ownUids.start + ownUids.count);
    expect(a.maps.gid.start).toBeGreaterThanOrEqual(ownGids.start);
    for (const b of running.slice(i + 1)) {
      expect(overlaps(a.maps.uid, b.maps.uid)).toBe(false);
      expect(overlaps(a.maps.gid, b.maps.gid)).toBe(false);
    }
  }
  const index = blockIndex(running[0].maps.uid.start);
  expect(isIdBlockTaken(index)).toBe(true);
  await running[0].c.destroy();
  expect(isIdBlockTaken(index)).toBe(false);
});

test('a detached container\'s monitor holds its block after the maker lets go', async () => {
  const { c, maps } = await runningContainerDetached();
  const index = blockIndex(maps.uid.start);
  expect(isIdBlockTaken(index)).toBe(true);
  await c.destroy();
  expect(isIdBlockTaken(index)).toBe(false);
});

async function runningContainerDetached() {
  const rootfs = rootfsCopy('userns-detached');
  const c = make({ rootfs, stateRoot, userns: true, detach: true });
  const main = c.spawn(['sleep', '1000']);
  await main.started;
  return { c, maps: mapsOf(main.pid!) };
}

test('a maker killed while its container runs leaves its block free for the next container', async () => {
  const out = path.join(tempDir('userns-crash'), 'block');
  const maker = startScript(`
    const c = new Container({ rootfs: ${JSON.stringify(rootfsCopy('userns-crash'))}, stateRoot: ${JSON.stringify(stateRoot)}, userns: true });
    const p = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await p.started;
    const start = require('node:fs').readFileSync('/proc/' + p.pid + '/uid_map', 'utf8').trim().split(/\\s+/)[1];
    require('node:fs').writeFileSync(${JSON.stringify(out)}, start + ' ' + p.pid + '\\n');
    await new Promise(() => undefined);
  `);
  const [start, pid] = (await waitForFile(out)).map(Number);
  const index = blockIndex(start);
  expect(isIdBlockTaken(index)).toBe(true);
  maker.kill('SIGKILL');
  await collect(maker);
  // The kernel dropped the dead maker's lock: the block is free, and its container is gone.
  expect(isIdBlockTaken(index)).toBe(false);
  for (let waited = 0; fs.existsSync(`/proc/${pid}`) && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
});
