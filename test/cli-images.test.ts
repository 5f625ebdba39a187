/**
 * The image commands of `ts-container` end to end, as a user runs them (the built
 * dist/cli.js, real containers, root): load an archive that skopeo wrote from a umoci-made
 * image, list, tag, inspect, save and load back, rmi, run IMAGE (its Cmd, and a command of
 * the caller's), and pull and push against a real registry in a network namespace of the
 * test's own.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_JS, NODE } from './support/cli';
import type { CliRegistryResult } from './support/cli-registry-scenario';
import { runInTestNetwork } from './support/test-network';
import { buildTestImage, convertImage, type TestImage } from './support/test-images';
import { removeTempDirs, tempDir } from './support/temp-dirs';

let image: TestImage;
let archive: string;
let stateRoot: string;
let dataRoot: string;

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(words: string[], input = ''): CliRun {
  const r = spawnSync(NODE, [CLI_JS, '--root', stateRoot, '--data-root', dataRoot, ...words], { encoding: 'utf8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A run that must succeed: its stdout. */
function ok(words: string[], input = ''): string {
  const r = cli(words, input);
  if (r.status !== 0) throw new Error(`ts-container ${words.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  image = buildTestImage('busybox', tempDir('tsc-cli-img-'));
  archive = convertImage(image, path.join(tempDir('tsc-cli-arch-'), 'busybox.tar'), { format: 'docker-archive' }).layout;
  stateRoot = tempDir('tsc-cli-state-');
  dataRoot = tempDir('tsc-cli-data-');
}, 300_000);

afterAll(() => {
  // No container of these tests may be left in the state root.
  const left = ok(['list', '-q']);
  removeTempDirs();
  expect(left).toBe('');
});

describe('load, images, tag, inspect, save, rmi', () => {
  test('load names what it loaded; images lists it', () => {
    expect(ok(['load', '-i', archive])).toBe('Loaded image: localhost/test:latest\n');
    const table = ok(['images']).split('\n');
    expect(table[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(table[1]).toMatch(/^localhost\/test\s+latest\s+[0-9a-f]{12}\s/);
    const [listed] = JSON.parse(ok(['images', '--json'])) as { id: string; references: string[] }[];
    expect(listed.references).toEqual(['localhost/test:latest']);
    expect(ok(['images', '-q'])).toBe(`${listed.id.replace('sha256:', '').slice(0, 12)}\n`);
  });

  test('tag adds a reference; inspect prints the image as JSON, by name or by id', () => {
    ok(['tag', 'localhost/test:latest', 'mine:1']);
    const [byName] = JSON.parse(ok(['inspect', 'mine:1'])) as { Type: string; id: string; references: string[]; config: { Cmd?: string[] } }[];
    expect(byName.Type).toBe('image');
    expect(byName.references.sort()).toEqual(['localhost/mine:1', 'localhost/test:latest']);
    expect(byName.config.Cmd).toEqual(['/bin/sh']);
    const [byId] = JSON.parse(ok(['inspect', '--type', 'image', byName.id.replace('sha256:', '').slice(0, 12)])) as { id: string }[];
    expect(byId.id).toBe(byName.id);
    const missing = cli(['inspect', 'no-such-image:1']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no such image or container: no-such-image:1/);
    expect(JSON.parse(missing.stdout)).toEqual([]);
  });

  test('save then rmi then load gives back the same image', () => {
    const [before] = JSON.parse(ok(['inspect', 'mine:1'])) as { id: string; digest: string }[];
    const out = path.join(tempDir('tsc-cli-save-'), 'saved.tar');
    ok(['save', '-o', out, 'mine:1']);
    expect(fs.statSync(out).size).toBeGreaterThan(1024);
    expect(ok(['rmi', 'localhost/test:latest'])).toBe('Untagged: localhost/test:latest\n');
    const removed = ok(['rmi', 'mine:1']);
    expect(removed).toContain('Untagged: localhost/mine:1\n');
    expect(removed).toContain(`Deleted: ${before.id}`);
    expect(ok(['images', '-q'])).toBe('');
    const again = cli(['rmi', 'mine:1']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/mine:1/);

    expect(ok(['load', '-q', '-i', out])).toBe(`${before.id.replace('sha256:', '')}\n`);
    const [after] = JSON.parse(ok(['inspect', 'mine:1'])) as { id: string; references: string[] }[];
    expect(after.id).toBe(before.id);
    expect(after.references).toEqual(['localhost/mine:1']);
  });
});

describe('inspect of a container', () => {
  test('a container id names the container (before any image), --type image looks past it', () => {
    const id = `insp-${process.pid}`;
    expect(ok(['run', '-d', '--name', id, '--', 'sleep', '1000'])).toBe(`${id}\n`);
    try {
      const [entry] = JSON.parse(ok(['inspect', id])) as { Type: string; id: string; State: { status: string } }[];
      expect(entry).toMatchObject({ Type: 'container', id, State: { status: 'running' } });
      const asImage = cli(['inspect', '--type', 'image', id]);
      expect(asImage.status).toBe(1);
      expect(JSON.parse(asImage.stdout)).toEqual([]);
    } finally {
      ok(['delete', '-f', id]);
    }
  });
});

describe('run IMAGE', () => {
  test("no command: the image's Cmd (/bin/sh, reading this stdin)", () => {
    expect(ok(['run', '--rm', 'mine:1'], 'echo from-the-image-cmd; cat /etc/hostname >/dev/null\n')).toBe('from-the-image-cmd\n');
  });

  test('IMAGE COMMAND ARG...: the command in the image, its writes private', () => {
    expect(ok(['run', '--rm', 'mine:1', 'sh', '-c', 'echo hi > /made-here && cat /made-here && ls /bin/busybox'])).toBe('hi\n/bin/busybox\n');
    // A second container of the image starts from the image, not from the first one's changes.
    expect(ok(['run', '--rm', 'mine:1', 'sh', '-c', 'test -e /made-here || echo gone'])).toBe('gone\n');
  });

  test('--pull never on a missing image fails with the library\'s error and makes nothing', () => {
    const r = cli(['run', '--rm', '--pull', 'never', 'localhost/absent:1', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/absent/);
    expect(ok(['list', '-q'])).toBe('');
  });

  test('run -- CMD still runs on the host\'s / without an image', () => {
    expect(ok(['run', '--rm', '--', 'sh', '-c', 'test -e /etc/debian_version && echo host-root'])).toBe('host-root\n');
  });
});

describe('pull and push against a real registry', () => {
  let r: CliRegistryResult;
  beforeAll(async () => {
    r = await runInTestNetwork<CliRegistryResult>(path.join(__dirname, 'support', 'cli-registry-scenario.ts'), 'pullAndPushThroughCli', {
      node: NODE,
      cli: CLI_JS,
      layout: image.layout,
      stateRoot,
      dataRoot,
      otherDataRoot: tempDir('tsc-cli-data2-'),
    }, 240_000);
  }, 300_000);

  test('pull, not on a terminal: one plain line per layer and phase, then the id', () => {
    expect(r.pull.stderr).toBe('');
    expect(r.pull.status).toBe(0);
    const lines = r.pull.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Pulling ${r.host}/tools/busybox:1`);
    // No carriage returns or cursor movement: a record, not a redrawn screen.
    expect(r.pull.stdout).not.toMatch(/[\r\x1b]/);
    const layerLines = lines.filter((l) => /^[0-9a-f]{12}: /.test(l));
    expect(layerLines.filter((l) => l.endsWith('Pull complete')).length).toBe(3);
    expect(layerLines.some((l) => /: Downloading \d/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^Image id: [0-9a-f]{64}$/);
  });

  test('pull -q prints the 64-hex image id alone', () => {
    expect(r.pullQuiet.status).toBe(0);
    expect(r.pullQuiet.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(r.pull.stdout).toContain(`Image id: ${r.pullQuiet.stdout.trim()}`);
  });

  test('push, then a pull of what was pushed into another data root gives the same image', () => {
    expect(r.push.status).toBe(0);
    expect(r.push.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}\n$/);
    expect(r.pullPushed.stdout).toBe(r.pullQuiet.stdout);
  });

  test('run of a missing image pulls it first, its progress on stderr', () => {
    // With its stderr, so that a failure says why.
    if (r.runPulled.status !== 0) throw new Error(`run after pull exited ${r.runPulled.status}:\n${r.runPulled.stderr}`);
    expect(r.runPulled.stdout).toBe('ran-after-pull\n');
    expect(r.runPulled.stderr).toMatch(/^Unable to find image '.*tools\/busybox:1' locally\n/);
    expect(r.runPulled.stderr).toMatch(/Pull complete/);
    expect(r.imagesOther.stdout).toMatch(/tools\/busybox\s+1\s/);
  });
});
