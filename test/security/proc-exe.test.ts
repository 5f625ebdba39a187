/**
 * Escape class: /proc/self/exe of a runtime process overwritten through a
 * container process (CVE-2019-5736).
 *
 * While a container runs, processes are exec'd into it again and again; a root
 * process inside loops over /proc, opening /proc/<pid>/exe of every other pid
 * for writing (O_WRONLY, O_RDWR), and O_PATH to reopen it for writing later
 * through /proc/self/fd/N (when the helper has exec'd or exited and the kernel
 * no longer answers ETXTBSY). No open for writing may succeed (an open of a memfd
 * sealed against writes, which every write then fails on, is reported apart as
 * "sealed"), the helper binary must be unchanged, and the exec'd processes must
 * run normally.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerOptions } from '../../lib';
import { cleanup, fixturesMount, HELPER, make, rootfsCopy, sha256, sharedRootfs, sleep } from './support';
import { LOOPS } from '../support/loops';

afterEach(cleanup);

const ATTACK_SECONDS = LOOPS.procExeAttackSeconds;
const ADDON = path.join(path.dirname(HELPER), 'ts_container.node');

interface HelperState {
  sha: string;
  addonMtimeMs: number;
}

function helperState(): HelperState {
  return { sha: sha256(HELPER), addonMtimeMs: fs.statSync(ADDON).mtimeMs };
}

/**
 * The helper binary is unchanged. Other sessions rebuild the project while tests run
 * (node-gyp rebuild replaces the helper and the addon together): a changed digest
 * next to a rebuilt addon is that, not an attack (the attackers here never write a
 * byte; an open for writing is what they report).
 */
function expectHelperUnchanged(before: HelperState): void {
  const now = helperState();
  if (now.sha !== before.sha && now.addonMtimeMs !== before.addonMtimeMs) {
    skippedDigestChecks++;
    return;
  }
  expect(now.sha).toBe(before.sha);
}

/** Digest checks not made because of a rebuild: printed, so that a run never hides them. */
let skippedDigestChecks = 0;
afterAll(() => {
  if (skippedDigestChecks > 0) {
    console.warn(`test/security/proc-exe.test.ts: ${skippedDigestChecks} helper digest check(s) skipped: the helper and the addon were rebuilt during the test`);
  }
});

interface AttackResult {
  attackerOutput: string;
  attackerExit: number | null;
  execs: number;
  execFailures: string[];
}

/** Runs the attacker in the container (as PID 1 or exec'd) while exec'ing `true`/`cat` into it in a loop. */
async function attack(opts: ContainerOptions, attackerAsExec: boolean, program = 'exe-grab'): Promise<AttackResult> {
  const c = make({ rootfs: sharedRootfs, readonly: true, mounts: [fixturesMount(program)], ...opts });
  const grab = [`/fixtures/${program}`, String(ATTACK_SECONDS)];
  const main = c.spawn(attackerAsExec ? ['sleep', '1000'] : grab, { stdio: 'pipe' });
  await main.started;
  const attacker = attackerAsExec ? c.exec(grab, { stdio: 'pipe' }) : main;
  const attackerDone = attacker.output({ maxBuffer: 256 * 1024 * 1024 }); // one line per seized exec: many MiB
  // Execs stop a little before the attacker does: one that PID 1's exit cuts short is no failure.
  const deadline = Date.now() + (ATTACK_SECONDS - 1) * 1000;
  let finished = false;
  void attackerDone.finally(() => {
    finished = true;
  });
  let execs = 0;
  const execFailures: string[] = [];
  // Two exec loops at once, so that helpers overlap the attacker's scans.
  const loop = async (argv: string[], expected: string) => {
    while (!finished && Date.now() < deadline) {
      try {
        const r = await c.exec(argv, { stdio: 'pipe' }).output();
        execs++;
        if (r.exitCode !== 0 || !r.stdout.includes(expected)) execFailures.push(JSON.stringify(r));
      } catch (err) {
        // The container may stop between the check and the exec.
        if (!finished) execFailures.push(String(err));
      }
    }
  };
  await Promise.all([loop(['echo', 'exec-ran'], 'exec-ran'), loop(['cat', '/proc/self/status'], 'Name:'), attackerDone]);
  const r = await attackerDone;
  if (process.env.TSC_SECURITY_VERBOSE) console.log(r.stdout.split('\n').filter((l) => !l.startsWith('WRITABLE reopen')).slice(0, 20).join('\n'));
  if (attackerAsExec) main.kill('SIGKILL');
  await sleep(10);
  return { attackerOutput: r.stdout + r.stderr, attackerExit: r.exitCode, execs, execFailures };
}

function expectNoWrite(result: AttackResult, helperBefore: HelperState): void {
  // Shown on failure: every WRITABLE line names the exe that could be opened for writing.
  const writable = result.attackerOutput.split('\n').filter((l) => l.startsWith('WRITABLE'));
  expect({ writable, summary: result.attackerOutput.split('\n').filter((l) => l.startsWith('attempts=')) }).toEqual({
    writable: [],
    summary: [expect.stringMatching(/ writable=0 /)],
  });
  expect(result.attackerExit).toBe(0);
  expectHelperUnchanged(helperBefore);
  // ETXTBSY: with CAP_SYS_PTRACE the attacker may hold the container's own busybox open for
  // writing, and then an exec of it fails; that harms only the container itself.
  expect(result.execFailures.filter((f) => !/ETXTBSY/.test(f))).toEqual([]);
  expect(result.execs).toBeGreaterThan(20);
}

describe('CVE-2019-5736: /proc/<pid>/exe of runtime processes cannot be opened for writing', () => {
  let helperBefore: HelperState;
  beforeEach(() => {
    helperBefore = helperState();
  });

  test('container PID 1 (root) attacks every exec that joins the container', async () => {
    const result = await attack({}, false);
    expectNoWrite(result, helperBefore);
  }, 60_000);

  test('an exec\'d root process attacks the execs that follow it', async () => {
    const result = await attack({}, true);
    expectNoWrite(result, helperBefore);
  }, 60_000);

  test('even with CAP_SYS_PTRACE added, the helper binary cannot be opened for writing', async () => {
    const result = await attack({ capabilities: { add: ['CAP_SYS_PTRACE'] } }, false);
    expectNoWrite(result, helperBefore);
  }, 60_000);

  test('the same with a user namespace (container root is not host root)', async () => {
    const result = await attack({ userns: true }, false);
    expectNoWrite(result, helperBefore);
  }, 60_000);

  test('with CAP_SYS_PTRACE added in a user namespace', async () => {
    const result = await attack({ userns: true, capabilities: { add: ['CAP_SYS_PTRACE'] } }, false);
    expectNoWrite(result, helperBefore);
  }, 60_000);
});

describe('CVE-2019-5736, ptrace variant: a container process cannot seize the runtime\'s privileges', () => {
  // An exec'd process appears in the container's PID namespace while it is still the helper's
  // code, before its exec. It must never hold more than the container's own credentials there:
  // the helper takes them before it clones the process, outside the namespace. With
  // CAP_SYS_PTRACE added, the container's root may trace it (as it may trace any process of
  // the container), and finds only the capabilities it has itself.
  const CONTAINER_CAPS_WITH_PTRACE = '00000000a80c25fb'; // Docker's 14 defaults + CAP_SYS_PTRACE

  function expectNoPrivilegeGained(result: AttackResult, seizable: boolean): void {
    const seizedHelper = result.attackerOutput.split('\n').filter((l) => l.startsWith('SEIZED-HELPER'));
    const privileged = seizedHelper.filter((l) => !l.endsWith(`CapEff=${CONTAINER_CAPS_WITH_PTRACE}`));
    expect(privileged.slice(0, 5)).toEqual([]);
    if (!seizable) {
      expect(result.attackerOutput.split('\n').filter((l) => l.startsWith('attempts='))).toEqual([expect.stringMatching(/ helper=0 /)]);
    }
    expect(result.execFailures).toEqual([]);
    expect(result.execs).toBeGreaterThan(20);
  }

  test('default capabilities: nothing can be seized', async () => {
    expectNoPrivilegeGained(await attack({}, false, 'ptrace-grab'), false);
  }, 60_000);

  test('with CAP_SYS_PTRACE added: a seized exec holds only the container\'s capabilities', async () => {
    expectNoPrivilegeGained(await attack({ capabilities: { add: ['CAP_SYS_PTRACE'] } }, false, 'ptrace-grab'), true);
  }, 60_000);

  test('with CAP_SYS_PTRACE added in a user namespace: the same', async () => {
    expectNoPrivilegeGained(await attack({ userns: true, capabilities: { add: ['CAP_SYS_PTRACE'] } }, false, 'ptrace-grab'), true);
  }, 60_000);
});
