/**
 * The state root is trusted only if nobody but the caller (and root) can change it: a record
 * planted there names processes that the sweep would kill, and a config that restore would
 * run. Files in a state directory are never reached through a link.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Container, ContainerStateFileError, UntrustedStateRootError } from '../lib/index';
import { resolveStateRoot, verifyStateRoot } from '../lib/state/state-root';
import { processStartTime } from '../lib/state/process-identity';
import { containerLeftovers, leftoverCount } from './support/container-leftovers';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { RUN_TAG } from './support/unique';

const FOREIGN_UID = 54321;
const victims: ChildProcess[] = [];

/** A host process that a planted record names: it must survive everything here. */
function startVictim(): ChildProcess {
  const victim = spawn('sleep', ['1000'], { stdio: 'ignore' });
  victims.push(victim);
  return victim;
}

function isAlive(victim: ChildProcess): boolean {
  return victim.exitCode === null && victim.signalCode === null && fs.existsSync(`/proc/${victim.pid}`);
}

/** A state record, as a maker that died while making it would have left it, naming `pid`. */
function plantedRecord(id: string, pid: number): string {
  const deadMaker = spawnSync('true').pid as number;
  return JSON.stringify({
    version: 1,
    id,
    created: new Date().toISOString(),
    phase: 'creating',
    detached: false,
    restart: 'no',
    annotations: {},
    command: ['sleep', '1000'],
    rootfs: null,
    cgroup: null,
    pid,
    startTime: processStartTime(pid),
    makerPid: deadMaker,
    makerStartTime: '1',
  });
}

afterAll(() => {
  for (const victim of victims) victim.kill('SIGKILL');
  removeTempDirs();
});

describe('an untrusted state root', () => {
  test('a state root writable by another user is refused with a typed error, and nothing is made in it', async () => {
    const open = tempDir('tsc-trust-open-');
    fs.chmodSync(open, 0o777);
    expect(() => new Container({ stateRoot: open }).spawn(['true'])).toThrow(UntrustedStateRootError);
    await expect(Container.list({ stateRoot: open })).rejects.toMatchObject({ code: 'EUNTRUSTEDSTATEROOT', path: open });
    await expect(Container.get('any', { stateRoot: open })).rejects.toThrow(UntrustedStateRootError);
    expect(fs.readdirSync(open)).toEqual([]);

    // A directory above it that others can write (not sticky): they could rename the root away.
    const above = tempDir('tsc-trust-above-');
    fs.chmodSync(above, 0o777);
    const below = path.join(above, 'root');
    fs.mkdirSync(below, { mode: 0o700 });
    expect(() => new Container({ stateRoot: below }).spawn(['true'])).toThrow(expect.objectContaining({ code: 'EUNTRUSTEDSTATEROOT', path: above }));

    // A sticky one is fine when the name in it is the caller's (a mkdtemp dir in /tmp)...
    const sticky = tempDir('tsc-trust-sticky-');
    fs.chmodSync(sticky, 0o1777);
    const mine = path.join(sticky, 'mine');
    fs.mkdirSync(mine, { mode: 0o700 });
    const c = new Container({ stateRoot: mine });
    try {
      expect((await c.spawn(['true']).wait()).exitCode).toBe(0);
    } finally {
      await c.destroy();
    }
    // ...but not when that name is another user's, who may then replace what is below it.
    const theirs = path.join(sticky, 'theirs');
    fs.mkdirSync(theirs, { mode: 0o755 });
    fs.chownSync(theirs, FOREIGN_UID, FOREIGN_UID);
    const inTheirs = path.join(theirs, 'root');
    fs.mkdirSync(inTheirs, { mode: 0o700 });
    expect(() => new Container({ stateRoot: inTheirs }).spawn(['true'])).toThrow(UntrustedStateRootError);
  });

  test('a state directory planted in a root another user owns is not trusted: nothing it names is killed or run', async () => {
    const foreign = tempDir('tsc-trust-foreign-');
    fs.chmodSync(foreign, 0o755);
    fs.chownSync(foreign, FOREIGN_UID, FOREIGN_UID);
    const victim = startVictim();
    const planted = path.join(foreign, 'planted');
    fs.mkdirSync(planted);
    fs.writeFileSync(path.join(planted, 'state.json'), plantedRecord('planted', victim.pid as number));
    const marker = path.join(tempDir('tsc-trust-marker-'), 'ran');
    fs.writeFileSync(path.join(planted, 'config.json'), JSON.stringify({ options: { id: 'planted', writable: [path.dirname(marker)] }, argv: ['touch', marker], process: {} }));

    // Making a container there would first sweep the planted record, killing the victim.
    expect(() => new Container({ id: 'other', stateRoot: foreign }).spawn(['true'])).toThrow(UntrustedStateRootError);
    await expect(Container.restore('planted', { stateRoot: foreign })).rejects.toThrow(UntrustedStateRootError);
    await expect(Container.get('planted', { stateRoot: foreign })).rejects.toThrow(UntrustedStateRootError);
    await expect(Container.list({ stateRoot: foreign })).rejects.toThrow(UntrustedStateRootError);
    await expect(Container.remove('planted', { stateRoot: foreign, force: true })).rejects.toThrow(UntrustedStateRootError);
    expect(isAlive(victim)).toBe(true);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readdirSync(foreign)).toEqual(['planted']);
  });
});

describe('links in a state directory', () => {
  test('a symlinked state file is not followed, for reading, writing or removing', async () => {
    const root = tempDir('tsc-trust-links-');
    const outside = tempDir('tsc-trust-outside-');
    const id = `linked-${RUN_TAG}`;
    const c = new Container({ id, stateRoot: root });
    const dir = path.join(root, id);
    try {
      const p = c.spawn(['sleep', '1000']);
      await p.started;
      // A record elsewhere that names a host process, put in place by a link.
      const victim = startVictim();
      fs.writeFileSync(path.join(outside, 'state.json'), plantedRecord(id, victim.pid as number));
      fs.rmSync(path.join(dir, 'state.json'));
      fs.symlinkSync(path.join(outside, 'state.json'), path.join(dir, 'state.json'));
      await expect(Container.get(id, { stateRoot: root })).rejects.toThrow(ContainerStateFileError);
      await expect(Container.get(id, { stateRoot: root })).rejects.toThrow(/symbolic link/);
      const [entry] = await Container.list({ stateRoot: root });
      expect(entry).toMatchObject({ id, status: 'unknown' });

      // The run record as a link to a file that does not exist: writing the exit must replace
      // the link, not make that file.
      fs.rmSync(path.join(dir, 'run.json'), { force: true });
      fs.symlinkSync(path.join(outside, 'made-through-a-link'), path.join(dir, 'run.json'));
      // A link to a host directory: removing the state directory must not empty it.
      fs.mkdirSync(path.join(outside, 'keep'));
      fs.writeFileSync(path.join(outside, 'keep', 'file'), 'kept');
      fs.symlinkSync(path.join(outside, 'keep'), path.join(dir, 'escape'));
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.symlinkSync(path.join(outside, 'keep'), path.join(dir, 'sub', 'escape'));

      c.kill();
      await p.wait();
      await c.destroy();
      expect(fs.existsSync(path.join(outside, 'made-through-a-link'))).toBe(false);
      expect(fs.readFileSync(path.join(outside, 'keep', 'file'), 'utf8')).toBe('kept');
      expect(isAlive(victim)).toBe(true);
    } finally {
      await c.destroy();
    }
    expect(fs.existsSync(dir)).toBe(false);
    expect(leftoverCount(containerLeftovers(id, root))).toBe(0);
  });
});

describe('the default state root', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  test("a user's default state root is never a predictable name in the shared temp directory", () => {
    jest.spyOn(process, 'getuid').mockReturnValue(1000);
    delete process.env.TS_CONTAINER_STATE_ROOT;
    delete process.env.XDG_RUNTIME_DIR;
    delete process.env.XDG_STATE_HOME;
    const root = resolveStateRoot();
    expect(root.startsWith(os.tmpdir())).toBe(false);
    expect(root.startsWith('/tmp/')).toBe(false);
    expect(root).toBe(path.join(os.homedir(), '.local', 'state', 'ts-container'));
    process.env.XDG_RUNTIME_DIR = '/run/user/1000';
    expect(resolveStateRoot()).toBe('/run/user/1000/ts-container');
  });
});

test('a state root another process makes between the check and the mkdir is checked as found, not an EEXIST', () => {
  const root = path.join(tempDir('tsc-state-race-'), 'made-meanwhile');
  // The module itself (the namespace imported above is a copy of its bindings, which the
  // library's reads go through).
  const nodeFs = jest.requireActual<typeof fs>('node:fs');
  const realLstat = nodeFs.lstatSync;
  let raced = false;
  // The first look finds nothing; the other process's mkdir lands right after it.
  const spy = jest.spyOn(nodeFs, 'lstatSync').mockImplementation(((target: fs.PathLike, options?: fs.StatSyncOptions) => {
    if (target === root && !raced) {
      raced = true;
      fs.mkdirSync(root, { mode: 0o711 });
      throw Object.assign(new Error(`ENOENT: no such file or directory, lstat '${root}'`), { code: 'ENOENT', errno: -2, syscall: 'lstat' });
    }
    return realLstat(target, options);
  }) as typeof fs.lstatSync);
  try {
    expect(verifyStateRoot(root, true)).toBe(true);
  } finally {
    spy.mockRestore();
  }
  expect(raced).toBe(true);
  expect(fs.statSync(root).isDirectory()).toBe(true);
});
