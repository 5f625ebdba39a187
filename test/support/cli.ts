/**
 * How the tests start the command line: the built dist/cli.js under this Node, as the
 * package's bin runs it. Transpiling lib/cli/main.ts on every invocation (tsx) cost seconds a
 * command; the global setup rebuilds dist/ once when a source is newer than it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
export const NODE = process.execPath;
export const CLI_JS = path.join(ROOT, 'dist', 'cli.js');

/** The newest modification time of the files tsup builds from. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (tsup, through scripts/build-dist.mjs) when dist/cli.js is missing or older than lib/ or the build's config. */
export function ensureBuiltCli(): void {
  const built = fs.existsSync(CLI_JS) ? fs.statSync(CLI_JS).mtimeMs : 0;
  const sources = Math.max(newestSource(path.join(ROOT, 'lib')), fs.statSync(path.join(ROOT, 'tsup.config.ts')).mtimeMs);
  if (built > sources) return;
  console.warn('dist/ is older than lib/: building it (tsup) for the CLI tests');
  // build-dist replaces dist/ file by file: another run's tests using dist/cli.js keep working.
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-dist.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
