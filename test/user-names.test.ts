/**
 * `user: 'name[:group]'` (and 'uid[:gid]'), as docker's --user: resolved by the helper in the
 * container's own /etc/passwd and /etc/group, never the host's; supplementary groups from
 * /etc/group; the user's home as HOME; an unknown name fails before the program runs and
 * leaves nothing behind. Real containers of a busybox rootfs with its own user database.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container, ContainerSetupError } from '../lib';
import type { ContainerOptions } from '../lib/options/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';
import { assertNothingLeft, snapshot } from './support/leftovers';
import { removeTempDirs, tempDir } from './support/temp-dirs';

const { make, run } = useContainers();

let rootfs: string;
let base: ContainerOptions;

beforeAll(() => {
  rootfs = path.join(tempDir('user-names-'), 'rootfs');
  execFileSync('cp', ['-a', ensureBusyboxRootfs(), rootfs]);
  fs.writeFileSync(
    path.join(rootfs, 'etc', 'passwd'),
    [
      'root:x:0:0:root:/root:/bin/sh',
      '# a comment line is skipped',
      'alice:x:1001:1001:Alice:/home/alice:/bin/sh',
      'bob:x:1002:1002::/home/bob:/bin/sh',
      // A name the host has and the container has with other ids.
      'daemon:x:7001:7001::/srv:/bin/false',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(rootfs, 'etc', 'group'),
    ['root:x:0:', 'alice:x:1001:', 'bob:x:1002:', 'staff:x:50:alice,carol', 'audio:x:63:bob,alice', 'daemon:x:7001:', ''].join('\n'),
  );
  base = { rootfs, readonly: true };
});

afterAll(removeTempDirs);

async function idOf(options: ContainerOptions): Promise<string> {
  // The kernel's list of supplementary groups (Groups:), not id's, which adds the gid itself.
  const out = await run({ ...base, ...options }, ['sh', '-c', 'echo "$(id -u) $(id -g) [$(echo $(grep ^Groups: /proc/self/status | cut -f2))] $HOME"']);
  expect(out).toMatchObject({ exitCode: 0, stderr: '' });
  return out.stdout.trim();
}

describe("user: 'name[:group]' resolved in the container's own files", () => {
  // The kernel keeps the groups sorted.
  test('a name: its uid, gid, home, its group and the groups that list it', async () => {
    expect(await idOf({ user: 'alice' })).toBe('1001 1001 [50 63 1001] /home/alice');
  });

  test('name:group takes the group by name, without supplementary groups', async () => {
    expect(await idOf({ user: 'alice:staff' })).toBe('1001 50 [50] /home/alice');
  });

  test('uid[:gid]: a uid with an entry takes its gid and groups; one without runs with gid 0', async () => {
    expect(await idOf({ user: '1002' })).toBe('1002 1002 [63 1002] /home/bob');
    expect(await idOf({ user: '4242' })).toBe('4242 0 [0] /');
    expect(await idOf({ user: '4242:77' })).toBe('4242 77 [77] /');
  });

  test("the container's database, not the host's: a name both have gets the container's ids", async () => {
    // The host's daemon is uid 1 (Debian); the container says 7001.
    expect(execFileSync('id', ['-u', 'daemon']).toString().trim()).toBe('1');
    expect(await idOf({ user: 'daemon' })).toBe('7001 7001 [7001] /srv');
  });

  test('env HOME wins over the user\'s home', async () => {
    expect(await idOf({ user: 'alice', env: { HOME: '/elsewhere' } })).toBe('1001 1001 [50 63 1001] /elsewhere');
  });

  test('exec with a name, and exec into a container whose user is a name', async () => {
    const c = make({ ...base, user: 'bob' });
    c.spawn(['sleep', '100'], { stdio: 'ignore' });
    const asContainer = await c.exec(['sh', '-c', 'echo "$(id -u) $(id -G) $HOME"'], { stdio: 'pipe' }).output();
    expect(asContainer).toMatchObject({ exitCode: 0, stdout: '1002 1002 63 /home/bob\n' });
    const asAlice = await c.exec(['sh', '-c', 'echo "$(id -u) $(id -g) $HOME"'], { user: 'alice:audio', stdio: 'pipe' }).output();
    expect(asAlice).toMatchObject({ exitCode: 0, stdout: '1001 63 /home/alice\n' });
    const unknown = await c.exec(['true'], { user: 'mallory', stdio: 'pipe' }).wait().catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(ContainerSetupError);
    expect(unknown).toMatchObject({ code: 'ENOENT' });
  });
});

describe('an unknown name or group', () => {
  test('fails the spawn with a typed error before the program runs, and leaves nothing', async () => {
    const out = tempDir('user-names-out-');
    for (const [user, what] of [['mallory', 'no such user'], ['alice:wheel', 'no such group']] as const) {
      const before = snapshot();
      const c = new Container({ ...base, user, mounts: [{ type: 'bind', source: out, target: '/work' }] });
      const err = await c
        .spawn(['sh', '-c', 'touch /work/ran'], { stdio: 'pipe' })
        .wait()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContainerSetupError);
      expect(err).toMatchObject({ code: 'ENOENT', step: expect.stringContaining(`user '${user}': ${what}`) });
      expect((err as Error).message).toContain("/etc/passwd");
      await c.destroy();
      await assertNothingLeft(before);
    }
    expect(fs.readdirSync(out)).toEqual([]);
  });

  test('a malformed user string is an option error that names the option', () => {
    for (const user of ['', 'a:b:c', 'with space', 'a/b']) {
      expect(() => new Container({ ...base, user })).toThrow(/^user: expected 'name\[:group\]' or 'uid\[:gid\]'/);
    }
  });
});
