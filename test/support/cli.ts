/**
 * How the tests start the command line: the built dist/cli.js under this Node, as the
 * package's bin runs it. Transpiling lib/cli/main.ts on every invocation (tsx) cost seconds a
 * command; the global setup rebuilds dist/ once when a source is newer than it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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

/** Runs tsup when dist/cli.js is missing or older than lib/ or the build's config. */
export function ensureBuiltCli(): void {
  const built = fs.existsSync(CLI_JS) ? fs.statSync(CLI_JS).mtimeMs : 0;
  const sources = Math.max(newestSource(path.join(ROOT, 'lib')), fs.statSync(path.join(ROOT, 'tsup.config.ts')).mtimeMs);
  if (built > sources) return;
  console.warn('dist/ is older than lib/: building it (tsup) for the CLI tests');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsup'), { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI run to its end with `globals()` (--root DIR...) before the words, and `ok`, which
 * expects it to succeed and gives its stdout. `globals` is a function: roots made in a beforeAll.
 */
export function cliRunner(globals: () => string[], options: { cwd?: () => string; timeout?: number } = {}) {
  const cli = (args: string[]): CliResult => spawnResult([CLI_JS, ...globals(), ...args], options.cwd?.() ?? ROOT, options.timeout ?? 60000);
  const ok = (args: string[]): string => {
    const r = cli(args);
    if (r.status !== 0) throw new Error(`ts-container ${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return { cli, ok };
}

function spawnResult(args: string[], cwd: string, timeout: number): CliResult {
  const r = spawnSync(NODE, args, { cwd, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
