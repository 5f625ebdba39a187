/**
 * Tests that cannot run on this host show as skipped with their reason in the name (the skip
 * reporter, test/support/skip-reporter.js, lists them after the run), never as a pass that
 * asserted nothing.
 */

type TestFn = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;
type DescribeFn = (name: string, fn: () => void) => void;

/** `test` when `condition` holds; otherwise a skipped test whose name says why. */
export function testWhen(condition: unknown, reason: string): TestFn {
  if (condition) return test;
  return (name, fn, timeout) => test.skip(`${name} [skipped: ${reason}]`, fn, timeout);
}

/** `describe` when `condition` holds; otherwise a skipped block whose name says why. */
export function describeWhen(condition: unknown, reason: string): DescribeFn {
  if (condition) return describe;
  return (name, fn) => describe.skip(`${name} [skipped: ${reason}]`, fn);
}
