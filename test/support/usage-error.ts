/** The UsageError a command-line parse throws, for tests that look at its flag, topic and message. */
import { UsageError } from '../../lib/cli/usage-error';

export function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}
