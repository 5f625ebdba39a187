/**
 * docker's --rm, end to end through dist/cli.js: a foreground run without --rm leaves a
 * stopped container (list, inspect, commit, start, rmi see it; delete removes everything it
 * had), with --rm nothing stays, and `run -d --rm` removes itself once its program exits.
 * Real containers of an image (umoci-built, skopeo-converted) in this file's own state and
 * data roots. Needs root, the built addon and helper.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerListEntry } from '../lib/state/types';
import { CLI_JS, NODE } from './support/cli';
import { containerLeftovers } from './support/container-leftovers';
import { buildTestImage, convertImage } from './support/test-images';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { uniqueId } from './support/unique';

let stateRoot: string;
let dataRoot: string;
let archive: string;
/** The loaded image's only reference: rmi of it would delete the image. */
const IMAGE = 'localhost/test:latest';

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(words: string[]): CliRun {
  const r = spawnSync(NODE, [CLI_JS, '--root', stateRoot, '--data-root', dataRoot, ...words], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(words: string[]): string {
  const r = cli(words);
  if (r.status !== 0) throw new Error(`ts-container ${words.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

function entryOf(id: string): ContainerListEntry | undefined {
  return (JSON.parse(ok(['list', '--json'])) as ContainerListEntry[]).find((e) => e.id === id);
}

/** What of container `id` is anywhere: state entries, cgroups, processes, mounts, its writable layer and record. */
function everythingOf(id: string): string[] {
  const l = containerLeftovers(id, stateRoot);
  const containers = path.join(dataRoot, 'containers');
  const layer = fs.existsSync(containers) ? fs.readdirSync(containers).filter((n) => n === id || n === `${id}.json`) : [];
  // A removal moves the layer under .removing/ first; what is still there is left too.
  const removing = path.join(containers, '.removing');
  const moved = fs.existsSync(removing) ? fs.readdirSync(removing).filter((n) => n.startsWith(`${id}.`)) : [];
  return [...l.stateEntries, ...l.cgroups, ...l.processes.map(String), ...l.mounts, ...layer, ...moved.map((n) => `.removing/${n}`)];
}

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(() => {
  stateRoot = tempDir('tsc-rm-state-');
  dataRoot = tempDir('tsc-rm-data-');
  const image = buildTestImage('busybox', tempDir('tsc-rm-img-'));
  archive = convertImage(image, path.join(tempDir('tsc-rm-arch-'), 'busybox.tar'), { format: 'docker-archive' }).layout;
  ok(['load', '-i', archive]);
}, 300_000);

afterAll(() => {
  const left = cli(['list', '-q']).stdout;
  for (const id of left.split('\n').filter(Boolean)) cli(['delete', '-f', id]);
  removeTempDirs();
  expect(left).toBe('');
});

describe('run without --rm: the container stays, stopped', () => {
  test('list and inspect show its exit; commit, start and rmi see it; delete removes all of it', async () => {
    const id = uniqueId('keep');
    const r = cli(['run', '--name', id, IMAGE, 'sh', '-c', 'echo kept > /made-here; echo out; exit 3']);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('out\n');

    expect(entryOf(id)).toMatchObject({ id, status: 'stopped', exitCode: 3, pid: 0 });
    const [inspected] = JSON.parse(ok(['inspect', id])) as { Type: string; State: { status: string; exitCode: number } }[];
    expect(inspected).toMatchObject({ Type: 'container', State: { status: 'stopped', exitCode: 3 } });
    // Stopped: no process, cgroup or mount left; its state directory and writable layer stay.
    const l = containerLeftovers(id, stateRoot);
    expect([...l.cgroups, ...l.processes.map(String), ...l.mounts]).toEqual([]);
    expect(fs.readFileSync(path.join(dataRoot, 'containers', id, 'upper', 'made-here'), 'utf8')).toBe('kept\n');

    // Its image is in use: rmi refuses it without -f, as docker does.
    const refused = cli(['rmi', IMAGE]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(id);
    expect(ok(['images', '--json'])).toContain(IMAGE);

    // commit of a stopped container, as docker commit: its changes as a new image.
    ok(['commit', id, `rmcommitted:${id}`]);
    expect(ok(['run', '--rm', `rmcommitted:${id}`, 'cat', '/made-here'])).toBe('kept\n');
    // That run swept the state root (every run does, once): a kept container is not abandoned.
    expect(entryOf(id)).toMatchObject({ status: 'stopped', exitCode: 3 });
    expect(fs.existsSync(path.join(dataRoot, 'containers', id, 'upper', 'made-here'))).toBe(true);

    // start runs it again in the background (as docker start), and it stops again by itself.
    expect(ok(['start', id])).toBe(`${id}\n`);
    await waitUntil(`${id} to stop again`, () => entryOf(id)?.status === 'stopped');
    expect(entryOf(id)).toMatchObject({ status: 'stopped', exitCode: 3 });

    expect(ok(['delete', id])).toBe(`${id}\n`);
    expect(everythingOf(id)).toEqual([]);
    expect(entryOf(id)).toBeUndefined();
    // Nothing uses the image any more.
    ok(['rmi', `rmcommitted:${id}`]);
    expect(ok(['rmi', IMAGE])).toContain(`Untagged: ${IMAGE}`);
    ok(['load', '-i', archive]);
  });

  test('a run whose command is not found leaves nothing (127)', () => {
    const id = uniqueId('keep-nf');
    expect(cli(['run', '--name', id, IMAGE, 'no-such-program-xyz']).status).toBe(127);
    expect(everythingOf(id)).toEqual([]);
  });

  test('a kept container\'s id stays taken until it is deleted', () => {
    const id = uniqueId('keep-id');
    expect(cli(['run', '--name', id, '--', 'true']).status).toBe(0);
    const again = cli(['run', '--name', id, '--', 'true']);
    expect(again.status).toBe(125);
    expect(again.stderr).toMatch(/exists|in use|already/);
    ok(['delete', id]);
    expect(everythingOf(id)).toEqual([]);
  });
});

describe('run --rm', () => {
  test('in the foreground: nothing stays, the exit status is the program\'s', () => {
    const id = uniqueId('rm-fg');
    const r = cli(['run', '--rm', '--name', id, IMAGE, 'sh', '-c', 'echo x > /f; exit 4']);
    expect(r.status).toBe(4);
    expect(everythingOf(id)).toEqual([]);
    expect(entryOf(id)).toBeUndefined();
  });

  test('-d --rm: the container removes itself once its program exits', async () => {
    const id = uniqueId('rm-bg');
    const gate = tempDir('tsc-rm-gate-');
    ok(['run', '-d', '--rm', '--name', id, '--mount', `${gate}:/gate`, IMAGE, 'sh', '-c',
      'echo x > /written; while [ ! -e /gate/go ]; do sleep 0.05; done; exit 5']);
    // Running: everything is there, its writable layer too.
    expect(entryOf(id)).toMatchObject({ status: 'running' });
    expect(fs.readdirSync(path.join(dataRoot, 'containers'))).toEqual(expect.arrayContaining([id, `${id}.json`]));
    fs.writeFileSync(path.join(gate, 'go'), '');
    await waitUntil(`${id} to remove itself`, () => everythingOf(id).length === 0);
    expect(entryOf(id)).toBeUndefined();
  });

  test('-d --rm: stopped by `stop`, it goes too', async () => {
    const id = uniqueId('rm-stop');
    ok(['run', '-d', '--rm', '--name', id, IMAGE, 'sleep', '1000']);
    expect(entryOf(id)).toMatchObject({ status: 'running' });
    expect(ok(['stop', '-t', '1', id])).toBe(`${id}\n`);
    await waitUntil(`${id} to remove itself`, () => everythingOf(id).length === 0);
  });

  test('--rm with a restart policy is a usage error, and makes nothing', () => {
    const id = uniqueId('rm-restart');
    const r = cli(['run', '-d', '--rm', '--restart', 'always', '--name', id, IMAGE, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/--rm: conflicts with --restart/);
    expect(everythingOf(id)).toEqual([]);
  });
});
