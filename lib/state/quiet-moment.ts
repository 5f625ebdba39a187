/**
 * When to start background work that wakes a thread of libuv's pool: the removals destroy()
 * leaves behind (a state directory, a writable layer). A pool thread woken while Node's thread
 * is making a container takes a core at Node's priority, often Node's own. In a loop of
 * spawn+wait+destroy, the removals of one container started a turn of the event loop after its
 * destroy(), in the middle of the next one's state directory, writable layer and cgroups: on a
 * 2-core host, a CPU profile of Node's thread put about 0.4 ms of each container in the two
 * calls that queue them. Started at the hand-over instead, a spawn took 0.04-0.08 ms less at
 * the median and a spawn+wait+destroy 0.09-0.13 ms less on average (1200 in a row, blocks of
 * ten alternating with the turn-later start, twice).
 *
 * So while a spawn is making a container, up to the moment it has handed the helper everything
 * it waits for (its plan, and its cgroups and layer), such work waits: from then on Node's
 * thread waits for the helper's report, and the pool thread takes the core it leaves. Never for
 * long: MAX_HOLD_MS at most, however many spawns follow one another or run at once.
 */

/** Spawns between their start and their hand-over to the helper. */
let makesUnderWay = 0;
/** Work waiting for them. */
let waiting: (() => void)[] = [];
/** Ends the wait after MAX_HOLD_MS, while some work waits. */
let holdTimer: NodeJS.Timeout | undefined;

/** The longest background work waits for spawns under way. */
const MAX_HOLD_MS = 20;

/**
 * A spawn starts making a container: background work waits until the returned function is
 * called (once the helper has all it needs, or the spawn failed; a second call does nothing).
 */
export function holdBackgroundWork(): () => void {
  makesUnderWay++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    makesUnderWay--;
    if (makesUnderWay === 0) startWaiting();
  };
}

/**
 * Resolves at the next turn of the event loop when no spawn is making a container, else once
 * none is (or MAX_HOLD_MS has passed): when to start work that wakes a pool thread.
 */
export function quietMoment(): Promise<void> {
  return new Promise((resolve) => {
    // A turn later in any case: the caller's own work (destroy() resolving) goes first.
    setImmediate(() => {
      if (makesUnderWay === 0) return resolve();
      waiting.push(resolve);
      holdTimer ??= setTimeout(startWaiting, MAX_HOLD_MS);
    });
  });
}

/** How many spawns hold background work now (tests: a spawn that failed holds none). */
export function spawnsHoldingBackgroundWork(): number {
  return makesUnderWay;
}

function startWaiting(): void {
  if (holdTimer) clearTimeout(holdTimer);
  holdTimer = undefined;
  for (const resolve of waiting.splice(0)) resolve();
}
