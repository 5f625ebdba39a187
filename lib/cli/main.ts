#!/usr/bin/env node
/**
 * The `ts-container` command. `main()` parses the command line and runs it; the process exits
 * with the status it returns.
 */
import { version } from '../../package.json';
import { EXIT_RUNTIME_ERROR, isImageCommand } from './parsed';
import { parseCommandLine } from './program';
import { UsageError } from './usage-error';
import { helpText } from './help';

/** What --privileged gives away, said on each use. */
const PRIVILEGED_WARNING =
  'WARNING: --privileged: the container gets every capability, no seccomp filter, an unmasked /proc, writable /sys and no device rules\n';

export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args, { cwd: process.cwd(), env: process.env });
  } catch (err) {
    if (err instanceof UsageError) {
      const hint = err.topic === 'main' ? "See 'ts-container --help'." : `See 'ts-container ${err.topic} --help'.`;
      process.stderr.write(`ts-container: ${err.message}\n${hint}\n`);
      return EXIT_RUNTIME_ERROR;
    }
    throw err;
  }
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(helpText(parsed.topic));
      return 0;
    case 'version':
      process.stdout.write(`ts-container ${version}\n`);
      return 0;
    case 'run':
    case 'create': {
      if (parsed.options.privileged === true) process.stderr.write(PRIVILEGED_WARNING);
      // Loaded only here, so that --help and --version work without the native addon.
      if (parsed.kind === 'create' || parsed.options.detach) {
        const { createCommand } = await import('./commands');
        return createCommand(parsed);
      }
      const { runCommand } = await import('./run-command');
      return runCommand(parsed);
    }
    case 'pod': {
      const { podCommand } = await import('./commands/pod');
      return podCommand(parsed);
    }
    case 'network': {
      const { networkCommand } = await import('./commands/network');
      return networkCommand(parsed);
    }
    default: {
      if (isImageCommand(parsed)) {
        const { runImageCommand } = await import('./commands/images');
        return runImageCommand(parsed);
      }
      const { runLifecycleCommand } = await import('./commands');
      return runLifecycleCommand(parsed);
    }
  }
}

// A reader that went away (`ts-container logs -f ID | head`) ends the command quietly, with the
// status a program killed by SIGPIPE has (Node ignores the signal itself and gets EPIPE instead).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(128 + 13);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ts-container: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_RUNTIME_ERROR);
  },
);
