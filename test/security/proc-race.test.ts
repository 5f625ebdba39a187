/**
 * Escape class: a rootfs directory that someone else can write (another container with it
 * as a writable bind, the CVE-2019-19921 setup) is raced while the victim sets it up. The
 * racer exchanges `proc` with an empty directory (`decoy`) with renameat2(RENAME_EXCHANGE):
 * if the swap lands between the procfs mount and the masking, masks that are looked up again
 * by path go into the empty directory (or are skipped as missing), and the victim gets a
 * procfs with nothing masked and a writable /proc/sys (kernel.core_pattern: host root).
 *
 * The race is driven twice: deterministically, by pausing the helper right after it
 * mounted procfs (test pause "helper:procfs-mounted") and swapping there; and by chance, with
 * a hostile container swapping in a loop while the victim starts hundreds of times. Each start
 * must either fail with a ContainerSetupError or give a program whose every procfs (at /proc
 * or wherever the swap put it) has its masks and a read-only /sys.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerSetupError, MASKED_PATHS } from '../../lib';
import type { ContainerOptions, ProcessOutput } from '../../lib';
import { cleanup, fixture, fixturesMount, make, rootfsCopy, sleep, tempDir } from './support';
import { LOOPS } from '../support/loops';

afterEach(cleanup);

/** The masked /proc entries this kernel has: each must be covered in every procfs the program sees. */
const HOST_MASKED = MASKED_PATHS.filter((p) => p.startsWith('/proc/') && fs.existsSync(p)).map((p) =>
  p.slice('/proc/'.length),
);

// Every procfs the program can reach (at /proc, or at /decoy after a swap), and how it sees
// the masked entries and /proc/sys there, looked up through one fd per procfs so that a swap
// while it looks cannot mix two directories up.
const PROBE = ['/fixtures/proc-probe', '/proc', '/decoy', '--', ...HOST_MASKED];

/** What the probe found unmasked or writable; empty when every procfs is locked down. */
function exposures(stdout: string): string[] {
  return stdout.split('\n').filter((line) => / (open|writable)$/.test(line));
}

function victimRootfs(): string {
  const rootfs = rootfsCopy('victim');
  fs.mkdirSync(path.join(rootfs, 'decoy'));
  return rootfs;
}

function exchange(rootfs: string, name = 'proc'): void {
  execFileSync(fixture('exchange'), [path.join(rootfs, name), path.join(rootfs, 'decoy')]);
}

async function waitForFile(file: string): Promise<string> {
  while (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') === '') await sleep(10);
  return fs.readFileSync(file, 'utf8');
}

/**
 * Runs the probe in a container from `rootfs`, pausing the helper at `step` (a test pause)
 * to exchange `name` with `decoy` there; returns the probe's output (or its setup error).
 */
async function swapAt(rootfs: string, step: string, name: string, readonly: boolean): Promise<ProcessOutput> {
  const pauseFile = path.join(tempDir('pause'), 'pause');
  let running: Promise<ProcessOutput>;
  process.env.TS_CONTAINER_TEST_PAUSE_AT = `helper:${step}`;
  process.env.TS_CONTAINER_TEST_PAUSE_FILE = pauseFile;
  try {
    // Written through (no overlay), as in the CVE's setup: the racer's swap in the shared
    // directory is the victim's own tree then. (An overlay does not show the swap of a lower layer.)
    running = make({ rootfs, readonly, rootfsOverlay: false, mounts: [fixturesMount('proc-probe')] }).spawn(PROBE, { stdio: 'pipe' }).output();
    running.catch(() => undefined);
    expect(await waitForFile(pauseFile)).toMatch(new RegExp(`^helper:${step} `));
  } finally {
    delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
    delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  }
  exchange(rootfs, name);
  await fs.promises.writeFile(`${pauseFile}.resume`, 'go');
  return running;
}

describe('a rootfs raced into an unmasked /proc (CVE-2019-19921 setup)', () => {
  test.each([
    ['read-write rootfs', false],
    ['read-only rootfs', true],
  ])('a swap right after the procfs mount (%s) is refused, or every procfs stays masked', async (_name, readonly) => {
    const rootfs = victimRootfs();
    // The helper has procfs on the directory that was `proc`; from the swap on, that directory
    // is `decoy`, and `proc` is the empty one.
    const running = swapAt(rootfs, 'procfs-mounted', 'proc', readonly);
    let out: ProcessOutput;
    try {
      out = await running;
    } catch (err) {
      // The procfs it mounted is no longer at /proc: setup says so instead of running without it.
      expect(err).toBeInstanceOf(ContainerSetupError);
      expect(err).toMatchObject({ code: 'ESTALE', step: expect.stringMatching(/^check \/proc /) });
      return;
    }
    expect(out.stdout).toMatch(/^procfs /m);
    expect(exposures(out.stdout)).toEqual([]);
  });

  test.each([
    ['sys', 'sysfs-mounted'],
    ['dev', 'dev-mounted'],
  ])('a swap of /%s right after its mount is refused (ESTALE), and nothing is written into the rootfs', async (name, step) => {
    const rootfs = victimRootfs();
    await expect(swapAt(rootfs, step, name, false)).rejects.toMatchObject({
      code: 'ESTALE',
      step: expect.stringMatching(new RegExp(`^check /${name} `)),
    });
    // /dev's devices and /sys/fs/cgroup went into the mounts through their fds, not by path
    // into whatever directory bore the name by then (a directory the writer sees).
    expect(fs.readdirSync(path.join(rootfs, name))).toEqual([]);
    expect(fs.readdirSync(path.join(rootfs, 'decoy'))).toEqual([]);
  });

  test('a hostile container swapping in a loop: hundreds of starts, never an unmasked procfs', async () => {
    const rootfs = victimRootfs();
    const attacker = make({
      rootfs: rootfsCopy('attacker'),
      mounts: [{ type: 'bind', source: rootfs, target: '/victim' }, fixturesMount('swapper', 'proc-probe')],
    });
    const swapper = attacker.spawn(['/fixtures/swapper', '/victim/proc', '/victim/decoy'], { stdio: 'pipe' });
    const swapperOut = swapper.output();
    await new Promise<void>((resolve) => swapper.stdout!.once('data', () => resolve()));

    const outcomes: Record<string, number> = {};
    const exposed: string[] = [];
    const count = (key: string) => (outcomes[key] = (outcomes[key] ?? 0) + 1);
    for (let i = 0; i < LOOPS.procRaceVictims; i++) {
      const options: ContainerOptions = { rootfs, readonly: i % 2 === 1, mounts: [fixturesMount('proc-probe')] };
      const victim = make(options);
      try {
        const out = await victim.spawn(PROBE, { stdio: 'pipe' }).output();
        const found = exposures(out.stdout);
        exposed.push(...found.map((f) => `start ${i}: ${f}`));
        count(/^procfs \/proc$/m.test(out.stdout) ? 'masked procfs at /proc' : 'no procfs at /proc');
      } catch (err) {
        if (!(err instanceof ContainerSetupError)) throw err;
        count(`${err.step}: ${err.code}`);
      }
      await victim.destroy();
    }
    attacker.kill('SIGTERM');
    const summary = (await swapperOut).stdout;
    expect(Number(/swaps (\d+)/.exec(summary)?.[1])).toBeGreaterThan(0);
    expect({ exposed, outcomes }).toEqual({ exposed: [], outcomes: expect.anything() });
  }, 600000);
});
