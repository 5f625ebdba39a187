/**
 * A container cannot flood Node's event loop with seccomp notifications (issue 9, item 11).
 * Each exec'd process has a listener of its own; many of them flooding at once, one event-loop turn serves at most NOTIFICATIONS_PER_TURN of the container's
 * notifications, so timers and other work run between turns. Counted per loop turn (a
 * setImmediate chain marks the turns), not timed: the timer delay is in bench/notify-flood.ts.
 */
import { NOTIFICATIONS_PER_TURN } from '../../lib/seccomp-notify/budget';
import { cleanup, fixturesMount, make, sharedRootfs, tempDir } from '../security/support';

afterEach(cleanup);

const EEXIST = 17;
const FLOODERS = 2 * NOTIFICATIONS_PER_TURN;
const CALLS = 400;

test(`${FLOODERS} processes flooding notifications get at most ${NOTIFICATIONS_PER_TURN} served per loop turn, and every call an answer`, async () => {
  let served = 0;
  let inTurn = 0;
  let maxInTurn = 0;
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    maxInTurn = Math.max(maxInTurn, inTurn);
    inTurn = 0;
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const c = make({
    rootfs: sharedRootfs,
    readonly: true,
    stateRoot: tempDir('state'),
    mounts: [fixturesMount('notify-flood')],
    seccomp: {
      profile: 'default',
      notify: {
        syscalls: ['mkdir', 'mkdirat'],
        handler: () => {
          served++;
          inTurn++;
          // Some work per notification, so that the other listeners are ready again meanwhile.
          const until = process.hrtime.bigint() + 200_000n;
          while (process.hrtime.bigint() < until) {
            /* busy */
          }
          return { action: 'errno', errno: EEXIST };
        },
      },
    },
  });
  try {
    // PID 1 waits; its end would end every process of the container.
    const main = c.spawn(['sleep', '1000'], { stdio: 'ignore' });
    await main.started;
    const all = [];
    for (let i = 0; i < FLOODERS; i++) all.push(c.exec(['/fixtures/notify-flood', String(CALLS)], { stdio: 'pipe' }).output());
    const outputs = await Promise.all(all);
    for (const out of outputs) {
      expect(out.exitCode).toBe(0);
      expect(out.stdout).toBe(`calls ${CALLS} eexist ${CALLS}\n`);
    }
  } finally {
    ticking = false;
  }
  // Every call was handed to the handler once (the flooders' execve is not notified).
  expect(served).toBe(FLOODERS * CALLS);
  expect(maxInTurn).toBeGreaterThan(0);
  expect(maxInTurn).toBeLessThanOrEqual(NOTIFICATIONS_PER_TURN);
  expect(turns).toBeGreaterThan(served / NOTIFICATIONS_PER_TURN - 1);
});
