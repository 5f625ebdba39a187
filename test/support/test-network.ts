/**
 * Runs an exported async function of a test module in a fresh network namespace (only `lo`,
 * up) and pid namespace, in its own node process: registries, proxies and clients started there talk over
 * 127.0.0.1 of that namespace and never over the host's network. The function's JSON result
 * comes back; a throw fails with its stack.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const RUNNER = path.join(__dirname, 'test-network-runner.ts');

export async function runInTestNetwork<T>(modulePath: string, exportName: string, args: unknown = null, timeoutMs = 120_000): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-netns-'));
  try {
    const argsFile = path.join(dir, 'args.json');
    const resultFile = path.join(dir, 'result.json');
    fs.writeFileSync(argsFile, JSON.stringify(args));
    const child = spawn(
      'unshare',
      // A pid namespace too: when the run ends or is killed, nothing it started (a registry) outlives it.
      // Its own /proc (so a mount namespace): the library tells a live maker of a container by its
      // pid in /proc, and the host's /proc would show another process, or none, under that pid.
      ['--net', '--pid', '--fork', '--mount', '--mount-proc', '--kill-child', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', RUNNER, modulePath, exportName, argsFile, resultFile],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${path.basename(modulePath)}:${exportName} in a test network failed (${code ?? signal}):\n${output}`);
    return JSON.parse(fs.readFileSync(resultFile, 'utf8')) as T;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
