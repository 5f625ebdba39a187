/**
 * `ip` and `iptables` of the caller's network namespace, run as programs: their output and
 * exit status are the interface (the same binaries the CNI plugins themselves run).
 */
import { execFile } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function runCommand(program: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(program, args, { encoding: 'utf8' }, (error, stdout, stderr) => resolve({ ok: !error, stdout, stderr }));
  });
}

/** iptables, waiting for the xtables lock as every other user of it does. */
export function iptables(...args: string[]): Promise<CommandResult> {
  return runCommand('iptables', ['-w', ...args]);
}

/** Runs it and throws with its stderr when it fails. */
export async function mustRun(program: string, args: string[]): Promise<string> {
  const result = await runCommand(program, args);
  if (!result.ok) throw new Error(`${program} ${args.join(' ')}: ${result.stderr.trim() || 'failed'}`);
  return result.stdout;
}
