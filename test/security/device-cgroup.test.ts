/**
 * Escape class: raw device access. Container root keeps CAP_MKNOD (as in Docker); until now
 * only the nodev flag on every mount stopped a node it makes from being opened. A container
 * given CAP_SYS_ADMIN mounts a tmpfs of its own (not nodev), makes nodes there for devices
 * outside the allow list (the fuse device, which opens with no further check; a host disk,
 * /dev/mem) and opens them. The device cgroup (runc's default rules) must refuse that with
 * EPERM while the standard devices and terminals keep working.
 *
 * On a host with the v1 `devices` controller (this machine) the rules are in the container's
 * devices cgroup; on a cgroup v2 host they are a BPF device program on the container's
 * cgroup: run this file in the v2 guest to check that one
 * (`bash test/vm/run-in-vm.sh -- node node_modules/.bin/jest --runInBand test/security/device-cgroup.test.ts`).
 */
import * as fs from 'node:fs';
import { DEFAULT_DEVICE_RULES } from '../../lib/cgroups/device-rules';
import { cleanup, make, rootfsCopy, sh, tempDir } from './support';
import { testWhen } from '../support/skip';

afterEach(cleanup);

/** Whether this host has the v1 devices controller (else the rules are a BPF program on v2). */
const onV1 = /^\S+ \S+ \S+ \S+ \S+ .* - cgroup \S+ \S*\bdevices\b/m.test(fs.readFileSync('/proc/self/mountinfo', 'utf8'));

/** A block device of this machine ("major minor"): the one under / when it is one, else any; null when it has none. */
function hostBlockDevice(): string | null {
  const all = fs.readdirSync('/sys/dev/block');
  const dev = fs.statSync('/').dev;
  const root = `${Math.floor(dev / 256) & 0xfff}:${dev % 256}`;
  const chosen = all.includes(root) ? root : all[0];
  return chosen ? chosen.replace(':', ' ') : null;
}

const blockDevice = hostBlockDevice();

const withSysAdmin = () => ({ rootfs: rootfsCopy('devices'), capabilities: { add: ['SYS_ADMIN'] as const } });

/** What the rules must do, whichever mechanism holds them. */
function deviceRuleTests(): void {
  test('nodes made on a mount without nodev for devices outside the allow list cannot be opened (EPERM)', async () => {
    const r = await sh(
      withSysAdmin(),
      `mount -t tmpfs -o mode=755 none /mnt || exit 9
       grep " /mnt " /proc/self/mountinfo | grep -q nodev && echo "mnt is nodev"
       mknod /mnt/fuse c 10 229 && echo "mknod ok"
       true < /mnt/fuse && echo "fuse opened"
       mknod /mnt/mem c 1 1 && head -c 1 /mnt/mem > /dev/null && echo "mem read"
       true`,
    );
    expect(r.stdout).not.toContain('mnt is nodev');
    // Making the node is allowed (as in runc: "c *:* m"); opening it is not.
    expect(r.stdout).toContain('mknod ok');
    expect(r.stdout).not.toContain('fuse opened');
    expect(r.stdout).not.toContain('mem read');
    // The device cgroup's answer, on every host (without it: "No such device" where fuse is
    // not loaded; here, the fuse device opens).
    expect(r.stderr).toMatch(/\/mnt\/fuse: Operation not permitted/);
  });

  testWhen(blockDevice, 'no block device on this machine')('a node made for a disk of the host cannot be read (EPERM)', async () => {
    const r = await sh(
      withSysAdmin(),
      `mount -t tmpfs -o mode=755 none /mnt || exit 9
       mknod /mnt/disk b ${String(blockDevice)} && echo "mknod ok"
       head -c 512 /mnt/disk > /dev/null && echo "disk read"
       true`,
    );
    // Making the node is allowed (as in runc: "b *:* m"); opening it is not.
    expect(r.stdout).toContain('mknod ok');
    expect(r.stdout).not.toContain('disk read');
    expect(r.stderr).toMatch(/\/mnt\/disk: Operation not permitted/);
  });

  test('the standard devices work through nodes made on that mount, and in /dev', async () => {
    const r = await sh(
      withSysAdmin(),
      `mount -t tmpfs -o mode=755 none /mnt || exit 9
       for d in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9"; do
         set -- $d; mknod /mnt/$1 c $2 $3 || echo "mknod $1 failed"
       done
       echo x > /mnt/null && echo "null ok"
       [ "$(head -c 4 /mnt/zero | wc -c)" = 4 ] && echo "zero ok"
       echo x 2>/dev/null > /mnt/full || echo "full ok"
       [ "$(head -c 4 /mnt/random | wc -c)" = 4 ] && echo "random ok"
       [ "$(head -c 4 /mnt/urandom | wc -c)" = 4 ] && echo "urandom ok"
       echo x > /dev/null && head -c 1 /dev/zero > /dev/null && head -c 1 /dev/urandom > /dev/null && echo "dev ok"`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['null ok', 'zero ok', 'full ok', 'random ok', 'urandom ok', 'dev ok']);
  });

  test('a terminal still works (/dev/ptmx and /dev/pts)', async () => {
    const p = make({ rootfs: rootfsCopy('devices-tty') }).spawn(['sh', '-c', 'tty; echo ok > /dev/tty'], { tty: true });
    const out = await p.output();
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/\/dev\/pts\/\d+\r\nok\r\n/);
  });
}

describe('device cgroup (runc default rules)', () => {
  deviceRuleTests();

  testWhen(onV1, 'needs a v1 devices hierarchy')('the container has its own v1 devices cgroup holding the default rules', async () => {
    const r = await sh({ rootfs: rootfsCopy('devices-list') }, 'cat /sys/fs/cgroup/devices/devices.list');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([...DEFAULT_DEVICE_RULES].sort());
  });
});

describe('device cgroup as a BPF program (cgroup v2), on this host\'s cgroup2 mount', () => {
  // On a hybrid host the program goes on the container's cgroup in the controller-less cgroup2
  // mount, in place of the v1 rules (a test hook); on a v2 host it is the default above.
  const hasUnified = /^\S+ \S+ \S+ \S+ \S+ .* - cgroup2 /m.test(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  beforeAll(() => {
    process.env.TS_CONTAINER_TEST_DEVICE_PROGRAM = '1';
  });
  afterAll(() => {
    delete process.env.TS_CONTAINER_TEST_DEVICE_PROGRAM;
  });
  if (onV1 && hasUnified) {
    deviceRuleTests();
    test('the v1 devices cgroup allows everything meanwhile: the refusals above are the program\'s', async () => {
      const r = await sh({ rootfs: rootfsCopy('devices-list') }, 'cat /sys/fs/cgroup/devices/devices.list');
      expect(r.stdout.trim()).toBe('a *:* rwm');
    });

    test('a detached container restarted by its monitor stays under the program', async () => {
      const c = make({
        ...withSysAdmin(),
        stateRoot: tempDir('devices-state'),
        detach: true,
        restart: 'on-failure:3',
      });
      c.spawn(['sh', '-c', 'mount -t tmpfs none /mnt; mknod /mnt/fuse c 10 229; true < /mnt/fuse && echo opened || echo refused; exit 3']);
      let stdout = '';
      for await (const record of c.logs({ follow: true })) if (record.stream === 'stdout') stdout += record.data.toString();
      expect(stdout).toBe('refused\n'.repeat(4));
      expect(await c.state()).toMatchObject({ status: 'stopped', restartCount: 3 });
    });
  } else testWhen(false, 'needs a hybrid host; a v2 host runs the rules above with the program by default')('the device rules as a program beside v1', () => undefined);
});
