/**
 * A user who is not root (and has no delegated cgroup) gets a typed error that says what is
 * needed, not a raw EACCES from mkdir in /sys/fs/cgroup (issue 9, item 21). The library runs
 * in a Node process as the unprivileged `nobody` (setpriv), from this checkout.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rootfs } from './cgroups/support';

const NOBODY = 65534;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-non-root-'));
  fs.chmodSync(dir, 0o755);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a non-root user making a container gets a CgroupError saying root or a delegated cgroup is needed', () => {
  const stateRoot = path.join(dir, 'state');
  fs.mkdirSync(stateRoot, { mode: 0o700 });
  fs.chownSync(stateRoot, NOBODY, NOBODY);
  const script = path.join(dir, 'non-root.ts');
  fs.writeFileSync(
    script,
    `import { Container } from ${JSON.stringify(path.resolve(__dirname, '..', 'lib', 'index'))};
    (async () => {
      const c = new Container({ rootfs: ${JSON.stringify(rootfs)}, readonly: true, stateRoot: ${JSON.stringify(stateRoot)} });
      const error = await c.spawn(['true'], { stdio: 'ignore' }).wait().then(() => null, (e) => e);
      console.log(JSON.stringify(error && { name: error.name, code: error.code, step: error.step, message: error.message }));
    })();`,
  );
  fs.chmodSync(script, 0o644);
  const result = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '--import', 'tsx', script], {
    encoding: 'utf8',
    env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: '' },
    timeout: 60_000,
  });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  expect(JSON.parse(result.stdout.trim())).toEqual({
    name: 'CgroupError',
    code: 'EACCES',
    step: 'make the cgroup',
    message: expect.stringMatching(/^cgroup: EACCES making \/sys\/fs\/cgroup\/\S+: making cgroups needs root, or a cgroup delegated to this user/),
  });
  // Nothing is left of it.
  expect(fs.readdirSync(stateRoot)).toEqual([]);
});
