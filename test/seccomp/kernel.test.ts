/**
 * The seccomp profile in force, checked against the real kernel from inside containers:
 * the default profile stops what Docker's stops (with EPERM, or ENOSYS for clone3) and lets
 * ordinary programs run; 'unconfined' lifts it; notify hands system calls to a callback.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, type SeccompNotification } from '../../lib';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { useContainers } from '../support/containers';

const busybox = ensureBusyboxRootfs();
let rootfs: string;
let workDir: string;

/** A static program that makes one system call by number and prints its errno (0 on success). */
const PROBE_C = `
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  long nr = strtol(argv[1], 0, 10);
  long a[6] = {0};
  for (int i = 2; i < argc && i < 8; i++) a[i - 2] = strtol(argv[i], 0, 0);
  errno = 0;
  long rc = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  printf("%s\\n", rc < 0 ? strerrorname_np(errno) : "OK");
  return 0;
}
`;

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-seccomp-'));
  rootfs = path.join(workDir, 'rootfs');
  execFileSync('cp', ['-a', busybox, rootfs]);
  fs.writeFileSync(path.join(workDir, 'probe.c'), PROBE_C);
  execFileSync('cc', ['-static', '-O1', '-o', path.join(rootfs, 'bin', 'probe'), path.join(workDir, 'probe.c')]);
});

afterAll(() => {
  fs.rmSync(workDir, { recursive: true, force: true });
});

// The rootfs is this file's copy, made in beforeAll: the defaults are read at each make.
const { make: container } = useContainers(() => ({ rootfs, readonly: true }));

async function run(c: Container, script: string): Promise<string> {
  const r = await c.spawn(['sh', '-c', script], { stdio: 'pipe' }).output();
  return r.stdout + r.stderr;
}

/** Syscall numbers of this machine's architecture (x86_64 or aarch64), from the system headers via the C compiler. */
function nr(name: string): number {
  const out = execFileSync('sh', ['-c', `printf '#include <sys/syscall.h>\\nSYS_${name}\\n' | cc -E -P - | tail -1`]).toString().trim();
  const n = Number(out);
  if (!Number.isInteger(n)) throw new Error(`no syscall number for ${name}: ${out}`);
  return n;
}

const CLONE_NEWUSER = 0x10000000;

describe('the default profile', () => {
  test.each([
    ['unshare(CLONE_NEWUSER)', () => `probe ${nr('unshare')} ${CLONE_NEWUSER}`, 'EPERM'],
    ['mount', () => `probe ${nr('mount')} 0 0 0 0`, 'EPERM'],
    ['keyctl', () => `probe ${nr('keyctl')} 0`, 'EPERM'],
    ['add_key', () => `probe ${nr('add_key')} 0 0 0 0 0`, 'EPERM'],
    ['kexec_load', () => `probe ${nr('kexec_load')} 0 0 0 0`, 'EPERM'],
    ['open_by_handle_at', () => `probe ${nr('open_by_handle_at')} 0 0 0`, 'EPERM'],
    ['bpf', () => `probe ${nr('bpf')} 0 0 0`, 'EPERM'],
    ['init_module', () => `probe ${nr('init_module')} 0 0 0`, 'EPERM'],
    ['clone3 (ENOSYS, so that libc falls back to clone)', () => `probe ${nr('clone3')} 0 0`, 'ENOSYS'],
  ])('%s fails with the errno Docker returns', async (_name, command, errno) => {
    expect((await run(container(), command())).trim()).toBe(errno);
  });

  test('ptrace of a host process fails, even with CAP_SYS_PTRACE', async () => {
    // PTRACE_ATTACH (16) on the test's own host pid: not in the container's PID namespace.
    const out = await run(container({ capabilities: { add: ['SYS_PTRACE'] } }), `probe ${nr('ptrace')} 16 ${process.pid}`);
    expect(['EPERM', 'ESRCH']).toContain(out.trim());
  });

  test('ordinary programs run normally', async () => {
    const out = await run(container(), 'echo hi | tr a-z A-Z; ls / | wc -l; sh -c "exit 3"; echo rc=$?; date +%Y >/dev/null && echo date-ok');
    expect(out).toMatch(/^HI\n\d+\nrc=3\ndate-ok\n$/);
  });

  test('the profile applies to exec\'d processes too', async () => {
    const c = container();
    c.spawn(['sleep', '30'], { stdio: 'ignore' });
    const r = await c.exec(['probe', String(nr('unshare')), String(CLONE_NEWUSER)]).output();
    expect(r.stdout.trim()).toBe('EPERM');
  });

  test('Seccomp mode 2 is in force in the container', async () => {
    const out = await run(container(), 'grep -E "^Seccomp:" /proc/self/status');
    expect(out.trim()).toMatch(/^Seccomp:\s+2$/);
  });
});

describe("seccomp: 'unconfined'", () => {
  test('lifts the profile (the call reaches the kernel, which decides by capabilities)', async () => {
    const c = container({ seccomp: 'unconfined' });
    const out = await run(c, `grep -E "^Seccomp:" /proc/self/status; probe ${nr('unshare')} ${CLONE_NEWUSER}; probe ${nr('keyctl')} 0`);
    // unshare of a user namespace needs no capability: it works once seccomp allows it.
    expect(out).toMatch(/^Seccomp:\s+0\nOK\n/);
  });
});

describe('custom profiles', () => {
  test('an OCI profile: errno for one system call, allow the rest', async () => {
    const c = container({
      seccomp: {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      },
    });
    const out = await run(c, 'mkdir /tmp/x; echo rc=$?; echo still-running');
    expect(out).toContain('Permission denied');
    expect(out).toContain('still-running');
  });

  test('an argument rule: only one flag value is refused', async () => {
    const c = container({
      seccomp: {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: CLONE_NEWUSER, op: 'SCMP_CMP_MASKED_EQ', valueTwo: CLONE_NEWUSER }] }],
      },
    });
    const out = await run(c, `probe ${nr('unshare')} ${CLONE_NEWUSER}; probe ${nr('unshare')} 0`);
    expect(out.trim().split('\n')).toEqual(['EPERM', 'OK']);
  });

  test('a malformed profile is a TypeError naming the field, and nothing is made', () => {
    expect(() => new Container({ rootfs, seccomp: { defaultAction: 'SCMP_ACT_NOPE' } as never })).toThrow(/seccomp\.defaultAction/);
    expect(() => new Container({ rootfs, seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: 'x' }] } as never })).toThrow(/seccomp\.syscalls\[0\]/);
  });
});

describe('seccomp.notify', () => {
  test('every execve reaches the callback with its path and argv, and runs on', async () => {
    const seen: string[] = [];
    const c = container({
      seccomp: {
        profile: 'default',
        notify: {
          syscalls: ['execve'],
          handler: (n: SeccompNotification) => {
            seen.push(`${n.syscall} ${n.readString(n.args[0])} ${n.readStringArray(n.args[1]).join(' ')}`);
            return { action: 'continue' };
          },
        },
      },
    });
    const out = await run(c, '/bin/echo one; /bin/true; echo two');
    expect(out).toBe('one\ntwo\n');
    expect(seen).toEqual(['execve /bin/sh sh -c /bin/echo one; /bin/true; echo two', 'execve /bin/echo /bin/echo one', 'execve /bin/true /bin/true']);
  });

  test('the callback can refuse with an errno or answer a value', async () => {
    const c = container({
      seccomp: {
        profile: 'default',
        notify: {
          syscalls: ['mkdir', 'mkdirat', 'getppid'],
          handler: (n) => (n.syscall === 'getppid' ? { action: 'value', value: 4242 } : { action: 'errno', errno: 13 }),
        },
      },
    });
    const out = await run(c, 'mkdir /tmp/denied; echo rc=$?; [ -d /tmp/denied ] || echo absent; echo ppid=$PPID');
    expect(out).toContain('Permission denied');
    expect(out).toContain('absent');
    // The shell reads its parent pid with getppid() at start: the callback answered it.
    expect(out).toContain('ppid=4242');
  });

  test('a callback that throws fails the call with EPERM; the container goes on', async () => {
    const c = container({
      seccomp: { profile: 'default', notify: { syscalls: ['mkdir', 'mkdirat'], handler: () => { throw new Error('boom'); } } },
    });
    const out = await run(c, 'mkdir /tmp/x; echo after');
    expect(out).toContain('Operation not permitted');
    expect(out).toContain('after');
  });
});
