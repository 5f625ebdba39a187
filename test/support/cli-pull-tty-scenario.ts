/**
 * `ts-container pull` on a real terminal: a tmux pane (a tmux server of its own, its socket in
 * a temporary directory) runs the CLI under `script`, which logs the bytes the terminal got.
 * Run in a network namespace of its own (test-network.ts), against a docker-registry on
 * 127.0.0.1 there that skopeo filled. Returns what the pane shows at the end and the bytes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRegistry } from './registry-server';
import { skopeoPush } from './registry-test-images';

export interface PullTtyArgs {
  node: string;
  cli: string;
  /** The OCI layout to serve (tag 'latest'). */
  layout: string;
  stateRoot: string;
  /** Empty data roots, one per pull: each pull downloads every layer. */
  dataRoots: { bars: string; quiet: string; piped: string };
}

export interface PullTtyRun {
  /** The pane's text once the command ended (tmux capture-pane). */
  screen: string;
  /** Every byte the command wrote to its terminal. */
  raw: string;
}

export interface PullTtyResult {
  host: string;
  reference: string;
  bars: PullTtyRun;
  quiet: PullTtyRun;
  /** pull on the terminal but with its stdout piped through cat: not a terminal. */
  piped: PullTtyRun;
}

const sh = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

export async function pullOnTerminal(args: PullTtyArgs): Promise<PullTtyResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-pull-tty-'));
  const socket = path.join(dir, 'tmux.sock');
  const tmux = (...words: string[]): string => {
    const r = spawnSync('tmux', ['-S', socket, ...words], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${words.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const registry = await startRegistry(dir);
  let session = 0;
  /** Runs a shell command line in a fresh 100x30 pane under script; its screen and bytes once it ends. */
  const onTerminal = async (commandLine: string): Promise<PullTtyRun> => {
    const name = `pull-${++session}`;
    const raw = path.join(dir, `${name}.raw`);
    const done = path.join(dir, `${name}.done`);
    // script: the command's terminal is the pane's; -f writes each byte to the log at once.
    const inPane = `script -qfec ${sh(commandLine)} ${sh(raw)}; echo $? > ${sh(done)}; sleep 600`;
    tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', inPane);
    const deadline = Date.now() + 120_000;
    while (!fs.existsSync(done) || fs.readFileSync(done, 'utf8') === '') {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${commandLine}:\n${tmux('capture-pane', '-p', '-t', name)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const status = fs.readFileSync(done, 'utf8').trim();
    const screen = tmux('capture-pane', '-p', '-t', name);
    if (status !== '0') throw new Error(`${commandLine} exited ${status}:\n${screen}`);
    // The session stays until kill-server: ending the last one would end the server, and the
    // next new-session could meet it on its way out.
    // script's log opens and closes with a line of its own ("Script started on ...").
    const bytes = fs.readFileSync(raw, 'latin1').replace(/^Script started on [^\n]*\n/, '').replace(/\n?Script done on [^\n]*\n?$/, '');
    return { screen, raw: bytes };
  };
  try {
    const reference = `${registry.host}/tools/busybox:1`;
    await skopeoPush(args.layout, 'latest', reference);
    const cli = (dataRoot: string, words: string): string =>
      `${sh(args.node)} ${sh(args.cli)} --root ${sh(args.stateRoot)} --data-root ${sh(dataRoot)} ${words}`;
    const bars = await onTerminal(cli(args.dataRoots.bars, `pull ${reference}`));
    const quiet = await onTerminal(cli(args.dataRoots.quiet, `pull -q ${reference}`));
    const piped = await onTerminal(`${cli(args.dataRoots.piped, `pull ${reference}`)} | cat`);
    return { host: registry.host, reference, bars, quiet, piped };
  } finally {
    spawnSync('tmux', ['-S', socket, 'kill-server']);
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
