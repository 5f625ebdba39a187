/**
 * Unpacking as a user who is not root (`nobody`, through setpriv), as a rootless store does:
 * owners cannot be given away and are left as the user's, device nodes are skipped (not
 * permitted), whiteouts are still 0:0 character devices (the kernel lets anyone make those),
 * and an opaque directory is marked with user.overlay.opaque, which an overlay mounted with
 * `userxattr` reads.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tarBytes } from '../support/tar-writer';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const testIf = isRoot ? test : test.skip;
if (!isRoot) console.warn('unpack-non-root: skipped: needs root to become nobody');

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-unpack-non-root-'));
  fs.chmodSync(dir, 0o755);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

testIf('a user who is not root unpacks a layer where permitted, with user.overlay xattrs', () => {
  const layer = path.join(dir, 'layer.tar');
  fs.writeFileSync(
    layer,
    tarBytes([
      { name: 'etc/', type: '5', mode: 0o755 },
      { name: 'etc/owned-by-1000', data: 'x', uid: 1000, gid: 1000, mode: 0o4750 },
      { name: 'etc/.wh.gone' },
      { name: 'opq/', type: '5', mode: 0o700 },
      { name: 'opq/.wh..wh..opq' },
      { name: 'opq/kept', data: 'y' },
      { name: 'dev/', type: '5' },
      { name: 'dev/null', type: '3', devMajor: 1, devMinor: 3, mode: 0o666 },
      { name: 'dev/fifo', type: '6', mode: 0o600 },
      { name: 'locked/', type: '5', mode: 0o555 },
      { name: 'locked/inside', data: 'written before the directory lost its write bit' },
    ]),
  );
  fs.chmodSync(layer, 0o644);
  const into = path.join(dir, 'into');
  fs.mkdirSync(into);
  fs.chownSync(into, NOBODY, NOBODY);
  const script = path.join(dir, 'unpack.ts');
  fs.writeFileSync(
    script,
    `import * as fs from 'node:fs';
    import { unpackLayer } from ${JSON.stringify(path.resolve(__dirname, '..', '..', 'lib', 'images', 'layer-unpack'))};
    unpackLayer(fs.createReadStream(${JSON.stringify(layer)}), { into: ${JSON.stringify(into)} }).then(
      (r) => console.log(JSON.stringify(r)),
      (e) => { console.error(e); process.exit(1); },
    );`,
  );
  fs.chmodSync(script, 0o644);
  const result = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '--import', 'tsx', script], {
    encoding: 'utf8',
    env: { ...process.env, HOME: dir },
    timeout: 60_000,
  });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  const owned = fs.statSync(path.join(into, 'etc/owned-by-1000'));
  expect([owned.uid, owned.mode & 0o7777]).toEqual([NOBODY, 0o4750]);
  const whiteout = fs.lstatSync(path.join(into, 'etc/gone'));
  expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);
  const xattr = (file: string, name: string) =>
    execFileSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())', file, name], { encoding: 'utf8' }).trim();
  expect(xattr(path.join(into, 'opq'), 'user.overlay.opaque')).toBe('y');
  expect(fs.existsSync(path.join(into, 'dev/null'))).toBe(false);
  expect(fs.lstatSync(path.join(into, 'dev/fifo')).isFIFO()).toBe(true);
  expect(fs.statSync(path.join(into, 'locked')).mode & 0o7777).toBe(0o555);
  expect(fs.readFileSync(path.join(into, 'locked/inside'), 'utf8')).toMatch(/^written/);
});
