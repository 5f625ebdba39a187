/**
 * The README's "Image commands" session, run line by line as a user would type it: its
 * `ts-container` is dist/cli.js, its registry a docker-registry on 127.0.0.1 of a network
 * namespace of the test's own (test-network.ts), at the port it got instead of the README's
 * 5000, serving the test image under the README's name. Returns each line's outcome.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRegistry } from './registry-server';
import { skopeoPush } from './registry-test-images';

export interface SessionArgs {
  node: string;
  cli: string;
  /** The OCI layout to serve (tag 'latest') as tools/alpine:3.20. */
  layout: string;
  lines: string[];
  stateRoot: string;
  dataRoot: string;
}

export interface LineOutcome {
  line: string;
  status: number | null;
  stdout: string;
  stderr: string;
}

export async function runReadmeSession(args: SessionArgs): Promise<LineOutcome[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-readme-'));
  const registry = await startRegistry(path.join(dir, 'registry'));
  const bin = path.join(dir, 'bin');
  const cwd = path.join(dir, 'work');
  fs.mkdirSync(bin);
  fs.mkdirSync(cwd);
  fs.writeFileSync(path.join(bin, 'ts-container'), `#!/bin/sh\nexec '${args.node}' '${args.cli}' "$@"\n`, { mode: 0o755 });
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    TS_CONTAINER_STATE_ROOT: args.stateRoot,
    TS_CONTAINER_DATA_ROOT: args.dataRoot,
  };
  try {
    await skopeoPush(args.layout, 'latest', `${registry.host}/tools/alpine:3.20`);
    const outcomes: LineOutcome[] = [];
    for (const line of args.lines) {
      const r = spawnSync('sh', ['-c', line.replaceAll('127.0.0.1:5000', registry.host)], { cwd, env, encoding: 'utf8', timeout: 120_000 });
      outcomes.push({ line, status: r.status, stdout: r.stdout, stderr: r.stderr });
    }
    return outcomes;
  } finally {
    // What the session left running (bg, if its sleep has not ended): not the test's to keep.
    const left = spawnSync(args.node, [args.cli, 'list', '-q'], { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const id of left) spawnSync(args.node, [args.cli, 'delete', '-f', id], { env });
    await registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
