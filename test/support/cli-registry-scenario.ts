/**
 * The CLI against a real registry, run inside a network namespace of its own
 * (test-network.ts): a docker-registry on 127.0.0.1 there, filled by skopeo from a
 * umoci-made layout, then `ts-container pull` (progress lines, --quiet), `push` and a pull of
 * what was pushed into a second data root. Returns each command's output for the test.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRegistry } from './registry-server';
import { skopeoPush } from './registry-test-images';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRegistryArgs {
  node: string;
  cli: string;
  /** The OCI layout to serve (tag 'latest'). */
  layout: string;
  stateRoot: string;
  dataRoot: string;
  /** A second, empty data root, for the pull of what was pushed. */
  otherDataRoot: string;
}

export interface CliRegistryResult {
  host: string;
  pull: CliRun;
  pullQuiet: CliRun;
  push: CliRun;
  pullPushed: CliRun;
  runPulled: CliRun;
  imagesOther: CliRun;
}

export async function pullAndPushThroughCli(args: CliRegistryArgs): Promise<CliRegistryResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-cli-registry-'));
  const registry = await startRegistry(dir);
  const cli = (dataRoot: string, words: string[]): CliRun => {
    // Pipes, not a terminal: the progress comes as plain lines.
    const r = spawnSync(args.node, [args.cli, '--root', args.stateRoot, '--data-root', dataRoot, ...words], { encoding: 'utf8', input: '' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  try {
    await skopeoPush(args.layout, 'latest', `${registry.host}/tools/busybox:1`);
    const ref = `${registry.host}/tools/busybox:1`;
    const pull = cli(args.dataRoot, ['pull', ref]);
    const pullQuiet = cli(args.dataRoot, ['pull', '-q', ref]);
    const pushed = `${registry.host}/mine/busybox:2`;
    const push = cli(args.dataRoot, ['push', ref, pushed]);
    const pullPushed = cli(args.otherDataRoot, ['pull', '-q', pushed]);
    // run of an image the data root does not have pulls it first (progress on stderr).
    const runPulled = cli(args.otherDataRoot, ['run', '--rm', ref, 'echo', 'ran-after-pull']);
    const imagesOther = cli(args.otherDataRoot, ['images']);
    return { host: registry.host, pull, pullQuiet, push, pullPushed, runPulled, imagesOther };
  } finally {
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
