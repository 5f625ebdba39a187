/**
 * quiet-moment.ts: removals that wake a pool thread wait while a spawn is making a container,
 * until it has handed the helper all it waits for, and never longer than a short bound.
 */
import { holdBackgroundWork, quietMoment, spawnsHoldingBackgroundWork } from '../../lib/state/quiet-moment';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => expect(spawnsHoldingBackgroundWork()).toBe(0));

test('with no spawn under way, the moment comes a turn of the event loop later', async () => {
  let came = false;
  void quietMoment().then(() => (came = true));
  await Promise.resolve();
  expect(came).toBe(false);
  await turn();
  await turn();
  expect(came).toBe(true);
});

test('while spawns hold it, it waits for the last one to hand over; a second release does nothing', async () => {
  const first = holdBackgroundWork();
  const second = holdBackgroundWork();
  let came = false;
  void quietMoment().then(() => (came = true));
  await turn();
  await turn();
  first();
  first();
  await turn();
  expect(came).toBe(false);
  expect(spawnsHoldingBackgroundWork()).toBe(1);
  second();
  await turn();
  expect(came).toBe(true);
});

test('never longer than a short bound, however long a spawn holds it', async () => {
  const release = holdBackgroundWork();
  // Resolves although the hold is never released (else the test times out).
  await quietMoment();
  expect(spawnsHoldingBackgroundWork()).toBe(1);
  release();
});
