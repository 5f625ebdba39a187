/**
 * The README's command lines outside its "Image commands" session (which readme-session.ts
 * runs), run in order as a user would type them, in a network namespace of the test's own
 * (test-network.ts) with a registry on its 127.0.0.1 serving the test image under the README's
 * name. `npx ts-container` is dist/cli.js; a line for a terminal runs under script(1) with its
 * typed input; a line that follows output until Ctrl-C gets SIGINT once its output has come.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRegistry } from './registry-server';
import { skopeoPush } from './registry-test-images';

/** How one README line is run. */
export interface WalkthroughLine {
  /** The line as README.md shows it. */
  line: string;
  /** Run on a terminal of its own (script(1)), typing this. */
  typed?: string;
  /** It runs until Ctrl-C: SIGINT once its output matches this (a RegExp's source). */
  interruptAfter?: string;
}

export interface WalkthroughArgs {
  node: string;
  cli: string;
  /** The OCI layout to serve (tag 'latest') as tools/alpine:3.20. */
  layout: string;
  lines: WalkthroughLine[];
  /** Files made in the directory the lines run in, by relative path. */
  files?: Record<string, string>;
  stateRoot: string;
  dataRoot: string;
}

export interface WalkthroughOutcome {
  line: string;
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The README's `npx ts-container ...` is the installed bin: here the wrapper on PATH. */
function asTyped(line: string): string {
  return line.replace(/^npx ts-container /, 'ts-container ').replace(/&& npx ts-container /g, '&& ts-container ');
}

function runUntilOutput(command: string, pattern: RegExp, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Omit<WalkthroughOutcome, 'line'>> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `exec ${command}`], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // A line that never prints what it should is ended anyway, and its outcome says so.
    const stuck = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (pattern.test(stdout)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (status, signal) => {
      clearTimeout(stuck);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

export async function runReadmeWalkthrough(args: WalkthroughArgs): Promise<WalkthroughOutcome[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-walkthrough-'));
  const registry = await startRegistry(path.join(dir, 'registry'));
  const bin = path.join(dir, 'bin');
  const cwd = path.join(dir, 'work');
  fs.mkdirSync(bin);
  fs.mkdirSync(cwd);
  for (const [name, text] of Object.entries(args.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(cwd, name)), { recursive: true });
    fs.writeFileSync(path.join(cwd, name), text);
  }
  fs.writeFileSync(path.join(bin, 'ts-container'), `#!/bin/sh\nexec '${args.node}' '${args.cli}' "$@"\n`, { mode: 0o755 });
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    TS_CONTAINER_STATE_ROOT: args.stateRoot,
    TS_CONTAINER_DATA_ROOT: args.dataRoot,
  };
  try {
    await skopeoPush(args.layout, 'latest', `${registry.host}/tools/alpine:3.20`);
    const outcomes: WalkthroughOutcome[] = [];
    for (const step of args.lines) {
      const command = asTyped(step.line).replaceAll('127.0.0.1:5000', registry.host);
      if (step.interruptAfter !== undefined) {
        outcomes.push({ line: step.line, ...(await runUntilOutput(command, new RegExp(step.interruptAfter), { cwd, env })) });
        continue;
      }
      const r = step.typed !== undefined
        ? spawnSync('script', ['-qec', command, '/dev/null'], { cwd, env, input: step.typed, encoding: 'utf8', timeout: 120_000 })
        : spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 120_000 });
      outcomes.push({ line: step.line, status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
    }
    return outcomes;
  } finally {
    // What the walkthrough left running (after a failed line): not the test's to keep.
    const left = spawnSync(args.node, [args.cli, 'list', '-q'], { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const id of left) spawnSync(args.node, [args.cli, 'delete', '-f', id], { env });
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
