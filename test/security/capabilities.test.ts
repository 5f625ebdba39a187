/**
 * Escape class: inheritable or ambient capabilities reaching an exec'd process
 * (CVE-2022-29162), and capabilities gained at exec from a planted file.
 *
 * CapInh and CapAmb are 0 in the main process and in exec'd processes, for
 * root and for other users, with and without capabilities.add; no_new_privs is
 * set; a binary planted with file capabilities or the setuid bit gives nothing.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerOptions, User } from '../../lib';
import { cleanup, make, rootfsCopy, sharedRootfs, statusFields } from './support';

afterEach(cleanup);

const base: ContainerOptions = { rootfs: sharedRootfs, readonly: true };
const DOCKER_DEFAULT_CAPS = 0xa80425fbn;
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

interface Caps {
  inh: bigint;
  prm: bigint;
  eff: bigint;
  bnd: bigint;
  amb: bigint;
  nnp: string;
  uid: string;
}

function caps(statusText: string): Caps {
  const f = statusFields(statusText);
  const hex = (k: string) => BigInt(`0x${f[k]}`);
  return { inh: hex('CapInh'), prm: hex('CapPrm'), eff: hex('CapEff'), bnd: hex('CapBnd'), amb: hex('CapAmb'), nnp: f.NoNewPrivs, uid: f.Uid };
}

const cases: Array<[string, ContainerOptions, User | undefined]> = [
  ['root, default capabilities', {}, undefined],
  ['root, capabilities.add NET_ADMIN', { capabilities: { add: ['CAP_NET_ADMIN'] } }, undefined],
  // Not 'ALL': this machine's own bounding set lacks CAP_SYS_RESOURCE, so capset would refuse it.
  ['root, capabilities.add SYS_ADMIN, SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH', { capabilities: { add: ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE', 'CAP_DAC_READ_SEARCH'] } }, undefined],
  ['uid 1000', { user: { uid: 1000, gid: 1000 } }, undefined],
  ['uid 1000 with capabilities.add NET_ADMIN', { user: { uid: 1000, gid: 1000 }, capabilities: { add: ['CAP_NET_ADMIN'] } }, undefined],
  ['root container, exec as uid 1000', {}, { uid: 1000, gid: 1000 }],
  ['user namespace root', { userns: true }, undefined],
];

describe('CVE-2022-29162: no inheritable or ambient capabilities', () => {
  test.each(cases)('%s: CapInh = CapAmb = 0 and no_new_privs in main, exec\'d and grandchild processes', async (_name, opts, execUser) => {
    const c = make({ ...base, ...opts });
    const main = c.spawn(['sh', '-c', 'cat /proc/self/status; sleep 1000'], { stdio: 'pipe' });
    await main.started;
    let mainStatus = '';
    main.stdout!.on('data', (d: Buffer) => (mainStatus += d.toString()));
    // An exec'd process, and a process it starts (caps across another execve).
    const ex = await c.exec(['sh', '-c', 'cat /proc/self/status; echo ===; sh -c "cat /proc/self/status"'], { stdio: 'pipe', user: execUser }).output();
    expect(ex.exitCode).toBe(0);
    const [execStatus, grandchild] = ex.stdout.split('===\n');
    for (const _ of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) if (!mainStatus.includes('NoNewPrivs')) await new Promise((r) => setTimeout(r, 20));
    for (const text of [mainStatus, execStatus, grandchild]) {
      const cs = caps(text);
      expect({ inh: cs.inh, amb: cs.amb, nnp: cs.nnp }).toEqual({ inh: 0n, amb: 0n, nnp: '1' });
      // Nothing beyond the bounding set, and a non-root user holds nothing effective.
      expect(cs.eff & ~cs.bnd).toBe(0n);
      if (!cs.uid.startsWith('0\t')) expect({ prm: cs.prm, eff: cs.eff }).toEqual({ prm: 0n, eff: 0n });
    }
    if (opts.capabilities?.add?.includes('CAP_NET_ADMIN') && !opts.user) {
      expect(caps(mainStatus).eff & (1n << CAP_NET_ADMIN)).not.toBe(0n);
    }
  });

  test('the bounding set is Docker\'s: what is outside it (SYS_ADMIN) can never be raised again', async () => {
    const r = await make(base).spawn(['cat', '/proc/self/status'], { stdio: 'pipe' }).output();
    const cs = caps(r.stdout);
    expect(cs.bnd).toBe(DOCKER_DEFAULT_CAPS);
    expect(cs.bnd & (1n << CAP_SYS_ADMIN)).toBe(0n);
  });
});

describe('no capabilities or uid gained from a planted binary (no_new_privs)', () => {
  let rootfs: string;
  beforeEach(() => {
    rootfs = rootfsCopy('setcap');
  });

  function plant(): void {
    const capbox = path.join(rootfs, 'bin', 'busybox-caps');
    const suidbox = path.join(rootfs, 'bin', 'busybox-suid');
    if (fs.existsSync(capbox)) return;
    fs.copyFileSync(path.join(rootfs, 'bin', 'busybox'), capbox);
    fs.copyFileSync(path.join(rootfs, 'bin', 'busybox'), suidbox);
    execFileSync('setcap', ['cap_sys_admin,cap_sys_module,cap_net_admin,cap_dac_read_search+eip', capbox]);
    fs.chmodSync(suidbox, 0o4755);
    expect(fs.statSync(suidbox).mode & 0o4000).toBe(0o4000);
    // The control: on the host, the file capability is really there.
    expect(execFileSync('getcap', [capbox]).toString()).toMatch(/cap_sys_admin/);
  }

  test.each([
    ['root', undefined],
    ['uid 1000', { uid: 1000, gid: 1000 }],
  ])('%s: exec of a file-capability binary gains no capability', async (_name, user) => {
    plant();
    const c = make({ rootfs, user });
    let r;
    try {
      r = await c.spawn(['/bin/busybox-caps', 'cat', '/proc/self/status'], { stdio: 'pipe' }).output();
    } catch (err) {
      // The kernel refuses to exec a binary whose effective-bit file capabilities
      // cannot all be granted (they are outside the bounding set): also no gain.
      expect((err as NodeJS.ErrnoException).code).toBe('EPERM');
      return;
    }
    expect(r.exitCode).toBe(0);
    const cs = caps(r.stdout);
    expect(cs.eff & (1n << CAP_SYS_ADMIN)).toBe(0n);
    expect(cs.prm & (1n << CAP_SYS_ADMIN)).toBe(0n);
    expect(cs.eff & ~DOCKER_DEFAULT_CAPS).toBe(0n);
    if (user) expect(cs.eff).toBe(0n);
    expect({ inh: cs.inh, amb: cs.amb }).toEqual({ inh: 0n, amb: 0n });
  });

  test('uid 1000: exec of a setuid-root binary stays uid 1000', async () => {
    plant();
    const c = make({ rootfs, user: { uid: 1000, gid: 1000 } });
    const r = await c.spawn(['/bin/busybox-suid', 'cat', '/proc/self/status'], { stdio: 'pipe' }).output();
    expect(r).toMatchObject({ exitCode: 0, stderr: '' });
    const f = statusFields(r.stdout);
    expect(f.Uid.split(/\s+/)).toEqual(['1000', '1000', '1000', '1000']);
    expect(caps(r.stdout).eff).toBe(0n);
  });
});
