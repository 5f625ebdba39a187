/**
 * The default container (no rootfs: the host's / read-only) keeps the host's own permissions
 * (issue 9, items 3 and 5). Its root is an unused host uid of ts-container's subordinate range,
 * mapped through a user namespace, so host files are reached only as their permissions allow
 * others: a root-only file or unix socket planted on the host stays out of reach, a
 * world-readable file is readable. /tmp, /var/tmp, /run and /dev/shm are its own. A bind mount
 * the caller asks for is idmapped: container root acts on it as the caller's root would.
 * `rootfs: '/'` (or a symlink to it) is this same mode, never a writable bind of the host.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, type ContainerOptions } from '../../lib';
import { cleanup, fixturesMount, make } from './support';

afterEach(cleanup);

const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-hostroot-state-'));
/** Planted on a host path that the container shares (not /tmp or /var/tmp, which are fresh). */
const planted = fs.mkdtempSync('/var/lib/tsc-hostroot-');
const secret = path.join(planted, 'secret');
const world = path.join(planted, 'world-readable');
const privateDir = path.join(planted, 'private');
const socketInPrivateDir = path.join(privateDir, 'sock');
const rootOnlySocket = path.join(planted, 'root-only.sock');
const servers: net.Server[] = [];

function listen(file: string): Promise<void> {
  const server = net.createServer((s) => s.end('hello'));
  servers.push(server);
  return new Promise((resolve) => server.listen(file, resolve));
}

beforeAll(async () => {
  fs.chmodSync(planted, 0o755);
  fs.writeFileSync(secret, 'host secret\n', { mode: 0o600 });
  fs.writeFileSync(world, 'for everyone\n', { mode: 0o644 });
  fs.mkdirSync(privateDir, { mode: 0o700 });
  await listen(socketInPrivateDir);
  await listen(rootOnlySocket);
  fs.chmodSync(rootOnlySocket, 0o600);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  fs.rmSync(planted, { recursive: true, force: true });
  fs.rmSync(stateRoot, { recursive: true, force: true });
});

async function sh(opts: ContainerOptions, script: string) {
  return make({ stateRoot, ...opts }).spawn(['sh', '-c', script], { stdio: 'pipe' }).output();
}

const connect = (file: string) => `/fixtures/abstract-connect ${file}`;

describe.each([
  ['the default host-root container', {}],
  ['with userns: false', { userns: false }],
  ['with network "host"', { network: 'host' }],
  ["with rootfs: '/'", { rootfs: '/' }],
  ['with readonly: false', { readonly: false }],
  ['with CAP_DAC_READ_SEARCH and CAP_SYS_ADMIN added', { capabilities: { add: ['CAP_DAC_READ_SEARCH', 'CAP_SYS_ADMIN'] } }],
] as [string, ContainerOptions][])('%s', (_name, opts) => {
  test('a root-only file and root-only unix sockets on the host are out of reach; a world-readable file is readable', async () => {
    const r = await sh(
      { ...opts, mounts: [fixturesMount('abstract-connect')] },
      `cat ${secret} || echo "secret: denied"; cat ${world}; cat /etc/shadow >/dev/null 2>&1 || echo "shadow: denied"; ` +
        `${connect(socketInPrivateDir)}; ${connect(rootOnlySocket)}; true`,
    );
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'secret: denied',
      'for everyone',
      'shadow: denied',
      'connect: EACCES',
      'connect: EACCES',
    ]);
    expect(r.stderr).toMatch(/Permission denied/);
  });
});

test('control: the same planted files and sockets are reachable from the host (root)', async () => {
  expect(fs.readFileSync(secret, 'utf8')).toBe('host secret\n');
  const answer = await new Promise<string>((resolve, reject) => {
    const s = net.connect(rootOnlySocket);
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  expect(answer).toBe('hello');
});

test('container root is an unused host uid of the ts-container range, not host root', async () => {
  const r = await sh({}, 'id -u; cat /proc/self/uid_map /proc/self/gid_map');
  const [uid, uidMap, gidMap] = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  expect(uid).toEqual([0]);
  const range = fs.readFileSync('/etc/subuid', 'utf8').split('\n').find((l) => l.startsWith('ts-container:'))!.split(':').map(Number);
  expect(uidMap[0]).toBe(0);
  expect(uidMap[1]).toBeGreaterThanOrEqual(range[1]);
  expect(uidMap[1] + uidMap[2]).toBeLessThanOrEqual(range[1] + range[2]);
  expect(uidMap[2]).toBe(65536);
  expect(gidMap[1]).toBeGreaterThan(0);
});

test('/tmp, /var/tmp, /run and /dev/shm are fresh: host files there are not seen, and they are writable', async () => {
  const hostFiles = [
    fs.mkdtempSync('/tmp/tsc-hostroot-'),
    fs.mkdtempSync('/var/tmp/tsc-hostroot-'),
    fs.mkdtempSync('/run/tsc-hostroot-'),
    fs.mkdtempSync('/dev/shm/tsc-hostroot-'),
  ];
  try {
    const dirs = ['/tmp', '/var/tmp', '/run', '/var/run', '/dev/shm'];
    const r = await sh({}, `${dirs.map((d) => `ls -A ${d} | wc -l; touch ${d}/made-here && echo ok`).join('; ')}`);
    expect(r.stdout.trim().split('\n')).toEqual(['0', 'ok', '0', 'ok', '0', 'ok', '1', 'ok', '0', 'ok']);
    for (const d of hostFiles) expect(fs.readdirSync(d)).toEqual([]);
    for (const d of ['/tmp', '/var/tmp', '/run', '/dev/shm']) expect(fs.existsSync(`${d}/made-here`)).toBe(false);
  } finally {
    for (const d of hostFiles) fs.rmSync(d, { recursive: true, force: true });
  }
});

test('a writable bind mount stays writable and files made there belong to host root; a read-only one is read-only', async () => {
  const writable = fs.mkdtempSync('/var/lib/tsc-hostroot-rw-');
  const readonly = fs.mkdtempSync('/var/lib/tsc-hostroot-ro-');
  try {
    fs.writeFileSync(path.join(writable, 'root-only'), 'x', { mode: 0o600 });
    const r = await sh(
      { mounts: [{ type: 'bind', source: writable, target: '/work' }, { type: 'bind', source: readonly, target: '/ro', readonly: true }] },
      'echo made > /work/made && mkdir /work/dir && cat /work/root-only && echo; stat -c "%u %g" /work/made; touch /ro/x 2>&1 || true',
    );
    expect(r.stdout.trim().split('\n')).toEqual(['x', '0 0', expect.stringMatching(/Read-only file system/)]);
    for (const made of ['made', 'dir']) {
      const st = fs.statSync(path.join(writable, made));
      expect([st.uid, st.gid]).toEqual([0, 0]);
    }
    expect(fs.readFileSync(path.join(writable, 'made'), 'utf8')).toBe('made\n');
    expect(fs.readdirSync(readonly)).toEqual([]);
  } finally {
    fs.rmSync(writable, { recursive: true, force: true });
    fs.rmSync(readonly, { recursive: true, force: true });
  }
});

test('with network "host", /sys is a read-only bind of the host\'s', async () => {
  const r = await sh({ network: 'host' }, 'grep " /sys " /proc/self/mountinfo | head -1; ls /sys/class/net | sort | tr "\\n" " "');
  const [mount, interfaces] = r.stdout.split('\n');
  expect(mount.split(' ')[5].split(',')).toContain('ro');
  expect(interfaces.trim()).toBe(fs.readdirSync('/sys/class/net').sort().join(' '));
});

describe("rootfs: '/' is the host-root mode", () => {
  test("'/', a path that resolves to it, and a symlink to it all mean no rootfs, read-only", () => {
    const link = path.join(planted, 'link-to-root');
    fs.symlinkSync('/', link);
    for (const rootfs of ['/', '/usr/..', link]) {
      const c = new Container({ rootfs, stateRoot });
      expect(c.config.rootfs).toBeNull();
      expect(c.config.readonly).toBe(true);
      expect(c.config.userns).toBe('block');
    }
    // A directory that merely looks like a root is a rootfs as before.
    expect(new Container({ rootfs: planted, stateRoot }).config.rootfs).toBe(planted);
  });

  test('a container with it cannot write the host nor read its secrets', async () => {
    const written = `/etc/tsc-written-${path.basename(planted)}`;
    try {
      const r = await sh({ rootfs: '/' }, `touch ${written} 2>&1; cat ${secret} 2>&1; true`);
      expect(r.stdout).toMatch(/cannot touch '\/etc\/tsc-written-[^']*': Read-only file system/);
      expect(r.stdout).toMatch(/secret: Permission denied/);
      expect(fs.existsSync(written)).toBe(false);
    } finally {
      // What the old code let it do.
      fs.rmSync(written, { force: true });
    }
  });

  test('explicit id maps are refused in the host-root mode (container root could be mapped to host root)', () => {
    const map = [{ containerId: 0, hostId: 0, size: 1 }];
    expect(() => new Container({ rootfs: '/', userns: { uidMap: map, gidMap: map } })).toThrow(/^userns: explicit maps need a rootfs/);
  });
});
