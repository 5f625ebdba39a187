/**
 * The README's "Image commands" session, run line by line as a user would type it: its
 * `ts-container` is dist/cli.js, its registry a docker-registry on 127.0.0.1 of a network
 * namespace of the test's own (test-network.ts), at the port it got instead of the README's
 * 5000, serving the test image under the README's name. Returns each line's outcome.
 * The runner is the README walkthrough's (readme-walkthrough.ts): these lines are all plain.
 */
import { runReadmeWalkthrough, type WalkthroughArgs, type WalkthroughOutcome } from './readme-walkthrough';

export interface SessionArgs extends Omit<WalkthroughArgs, 'lines'> {
  lines: string[];
}

export type LineOutcome = WalkthroughOutcome;

export async function runReadmeSession(args: SessionArgs): Promise<LineOutcome[]> {
  return runReadmeWalkthrough({ ...args, lines: args.lines.map((line) => ({ line })) });
}
