#!/usr/bin/env node
/**
 * The `ts-container` command. `main()` parses the command line and runs it; the process exits
 * with the status it returns.
 */
import { version } from '../../package.json';
import { MAIN_HELP, RUN_HELP, EXIT_RUNTIME_ERROR, UsageError, parseCommandLine } from './parse-args';

export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args, { cwd: process.cwd(), env: process.env });
  } catch (err) {
    if (err instanceof UsageError) {
      const hint = err.topic === 'run' ? "See 'ts-container run --help'." : "See 'ts-container --help'.";
      process.stderr.write(`ts-container: ${err.message}\n${hint}\n`);
      return EXIT_RUNTIME_ERROR;
    }
    throw err;
  }
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(parsed.topic === 'run' ? RUN_HELP : MAIN_HELP);
      return 0;
    case 'version':
      process.stdout.write(`ts-container ${version}\n`);
      return 0;
    case 'run': {
      // Loaded only here, so that --help and --version work without the native addon.
      const { runCommand } = await import('./run-command');
      return runCommand(parsed);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ts-container: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_RUNTIME_ERROR);
  },
);
