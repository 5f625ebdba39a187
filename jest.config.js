/**
 * The test tiers, as jest projects: `npm test` runs them all; `npm run test:<tier>` one.
 *   unit         no root, no containers (parsers, compilers, drivers over temp dirs): seconds
 *   integration  real containers against the real kernel: needs root and the built addon
 *   e2e          the command line, run from the built dist/cli.js as a user runs it
 *   slow         the long loops (counts in test/support/loops.ts): differential, crash at
 *                every step, attacks, concurrent makers
 * A file belongs to the first tier that lists it; integration is every other test file.
 */
const UNIT = [
  'test/cgroups-unit/**/*.test.ts',
  'test/seccomp-unit/compiler.test.ts',
  'test/seccomp-unit/semantics.test.ts',
  'test/cli-unit/**/*.test.ts',
  'test/protocol-unit/**/*.test.ts',
  'test/native-unit/**/*.test.ts',
  'test/images-unit/**/*.test.ts',
  'test/install-unit/**/*.test.ts',
  'test/stacks-unit/**/*.test.ts',
  'test/health-unit/**/*.test.ts',
  'test/types-unit/**/*.test.ts',
  'test/bench-unit/**/*.test.ts',
];
// Not unit, though container-free: userns-ranges (it appends to the subordinate id files,
// which the library does only as root).
const E2E = ['test/cli.test.ts', 'test/cli-cp.test.ts', 'test/cli-lifecycle.test.ts', 'test/cli-images.test.ts', 'test/cli-rm.test.ts', 'test/cli-pull-tty.test.ts', 'test/readme-image-commands.test.ts', 'test/cli-pod.test.ts', 'test/cli-compose.test.ts', 'test/cli-docker.test.ts', 'test/package-types.test.ts', 'test/readme-snippets.test.ts', 'test/readme-commands.test.ts'];
const SLOW = [
  'test/seccomp-unit/differential.test.ts',
  'test/crash-safety.test.ts',
  'test/concurrent-makers.test.ts',
  'test/security/proc-exe.test.ts',
  'test/security/proc-race.test.ts',
  'test/install/install-without-compiler.test.ts',
];

const inRoot = (globs) => globs.map((g) => `<rootDir>/${g}`);
/** A jest path pattern (a regex) for each listed file or glob. */
const asPattern = (glob) => `<rootDir>/${glob.replace(/[.]/g, '\\.').replace('**/*', '.*')}$`;

const tsJest = (tsconfig) => ({ '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false }, tsconfig }] });
const containers = {
  testEnvironment: 'node',
  // The apt packages and the busybox rootfs (and, for the CLI, a fresh dist/).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // The default parent cgroup, when a process killed by a test was the last to use it.
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  transform: tsJest('tsconfig.json'),
};

module.exports = {
  testTimeout: 60000,
  maxWorkers: 2,
  // The default summary, then how many tests were skipped and why.
  reporters: ['default', '<rootDir>/test/support/skip-reporter.js'],
  projects: [
    { displayName: 'unit', testEnvironment: 'node', testMatch: inRoot(UNIT), transform: tsJest('tsconfig.unit.json') },
    {
      ...containers,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...[...UNIT, ...E2E, ...SLOW].map(asPattern)],
    },
    { ...containers, displayName: 'e2e', testMatch: inRoot(E2E) },
    { ...containers, displayName: 'slow', testMatch: inRoot(SLOW) },
  ],
};
