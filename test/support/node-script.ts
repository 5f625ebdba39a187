/**
 * Other Node processes for tests that need more than one: a script (TypeScript, run through
 * tsx in the node process itself, so its pid is the one that makes containers) that imports
 * the library as `Container` and friends from lib/index.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const LIB = path.resolve(__dirname, '..', '..', 'lib', 'index');

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let scriptDir: string | undefined;

/** Writes the script: `body` runs inside an async function; its import is `lib`. */
export function writeScript(body: string): string {
  if (!scriptDir) {
    scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-scripts-'));
    // Also for a process that never calls removeScripts (a scenario run under unshare).
    process.once('exit', removeScripts);
  }
  const file = path.join(scriptDir, `script-${Math.random().toString(36).slice(2)}.ts`);
  fs.writeFileSync(
    file,
    `import * as lib from ${JSON.stringify(LIB)};\nconst { Container } = lib;\n` +
      `(async () => {\n${body}\n})().catch((error) => { console.error(error); process.exit(70); });\n`,
  );
  return file;
}

export function removeScripts(): void {
  if (scriptDir) fs.rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = undefined;
}

/** Starts the script in a new node process. */
export function startScript(body: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', writeScript(body)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the script to its end. */
export function runScript(body: string, env: Record<string, string> = {}, timeoutMs = 30000): Promise<ScriptResult> {
  const child = startScript(body, env);
  return collect(child, timeoutMs);
}

export function collect(child: ChildProcess, timeoutMs = 30000): Promise<ScriptResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves once `file` exists and holds a line; returns its words. */
export async function waitForFile(file: string, timeoutMs = 20000): Promise<string[]> {
  for (let waited = 0; waited < timeoutMs; waited += 10) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      if (text.endsWith('\n')) return text.trim().split(' ');
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${file} did not appear within ${timeoutMs} ms`);
}
