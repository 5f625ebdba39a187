/**
 * The loop counts of the slow tier (`npm run test:slow`), in one place: raise them for a
 * soak, lower them on a slow machine. Each names the test that reads it.
 */
export const LOOPS = {
  /** seccomp-unit/differential: random profiles compiled here and by libseccomp, compared. */
  differentialProfiles: 300,
  /** concurrent-makers: Node processes making containers at once, and containers each. */
  concurrentMakers: { processes: 4, containersEach: 500 },
  /** security/proc-exe: seconds each /proc/<pid>/exe attack runs while execs loop. */
  procExeAttackSeconds: 6,
  /** security/proc-race: victim containers started while their /proc is swapped. */
  procRaceVictims: 300,
} as const;
