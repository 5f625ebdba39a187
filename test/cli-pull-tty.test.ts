/**
 * `ts-container pull`'s progress as a user sees it: on a real terminal (a tmux pane, the bytes
 * logged by script) one line per layer, named by its short digest, drawn in place with a bar
 * while it downloads and ending as "Pull complete"; plain lines when stdout is not a terminal;
 * `-q` prints the 64-hex image id alone, also on a terminal. Against a real docker-registry in
 * a network namespace of the test's own. Needs root, tmux, script, skopeo, docker-registry.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CLI_JS, NODE } from './support/cli';
import type { PullTtyResult } from './support/cli-pull-tty-scenario';
import { describeWhen } from './support/skip';
import { runInTestNetwork } from './support/test-network';
import { buildTestImage, readImageLayers } from './support/test-images';
import { removeTempDirs, tempDir } from './support/temp-dirs';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const LAYER_LINE = /^([0-9a-f]{12}): (.*)$/;

/** The lines of a screen or log that name a layer, by short digest. */
function layerLines(text: string): { layer: string; rest: string }[] {
  return text
    .split(/\r?\n/)
    .map((line) => LAYER_LINE.exec(line.trimEnd()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ layer: m[1], rest: m[2] }));
}

describeWhen(hasTmux, 'tmux not found (apt-get install tmux)')('pull progress on a terminal and off it', () => {
  let r: PullTtyResult;
  let shortDigests: string[];

  beforeAll(async () => {
    const image = buildTestImage('busybox', tempDir('tsc-pull-tty-img-'));
    shortDigests = readImageLayers(image).layers.map((l) => l.digest.replace(/^sha256:/, '').slice(0, 12));
    r = await runInTestNetwork<PullTtyResult>(path.join(__dirname, 'support', 'cli-pull-tty-scenario.ts'), 'pullOnTerminal', {
      node: NODE,
      cli: CLI_JS,
      layout: image.layout,
      stateRoot: tempDir('tsc-pull-tty-state-'),
      dataRoots: { bars: tempDir('tsc-pull-tty-a-'), quiet: tempDir('tsc-pull-tty-b-'), piped: tempDir('tsc-pull-tty-c-') },
    }, 240_000);
  }, 300_000);

  afterAll(() => removeTempDirs());

  test('the image has several layers (else one line per layer proves little)', () => {
    expect(shortDigests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(shortDigests).size).toBe(shortDigests.length);
  });

  test('a terminal ends showing one "Pull complete" line per layer, each layer once', () => {
    const shown = layerLines(r.bars.screen);
    // Redrawn in place: each layer has one line on the screen, not one per update.
    expect(shown.map((l) => l.layer).sort()).toEqual([...shortDigests].sort());
    for (const line of shown) expect(line.rest).toBe('Pull complete');
    const lines = r.bars.screen.split('\n');
    expect(lines[0]).toBe(`Pulling ${r.reference}`);
    expect(r.bars.screen).toMatch(/^Image id: [0-9a-f]{64}$/m);
  });

  test('on the way the terminal got a bar per layer, redrawn with the cursor moved back up', () => {
    // Each redraw goes back up over the lines drawn so far and clears each before writing it.
    expect(r.bars.raw).toMatch(/\x1b\[\d+A/);
    expect(r.bars.raw).toContain('\r\x1b[2K');
    for (const layer of shortDigests) {
      expect(r.bars.raw).toMatch(new RegExp(`${layer}: Downloading \\[[= >]*\\]\\s+[\\d.]+k?M?B/[\\d.]+k?M?B`));
    }
  });

  test('stdout piped (not a terminal): plain lines, one per layer and phase, no cursor movement', () => {
    const stdoutPart = r.piped.raw;
    expect(stdoutPart).not.toMatch(/\x1b\[\d*[AK]/);
    const lines = layerLines(stdoutPart);
    for (const layer of shortDigests) {
      const own = lines.filter((l) => l.layer === layer).map((l) => l.rest.replace(/ [\d.]+k?M?G?B$/, ''));
      // Each phase once, in order, ending complete.
      expect(own[own.length - 1]).toBe('Pull complete');
      expect(own).toContain('Downloading');
      expect(new Set(own).size).toBe(own.length);
    }
    expect(r.piped.screen).toMatch(/^Image id: [0-9a-f]{64}$/m);
  });

  test('-q on a terminal prints the 64-hex image id alone, no bars', () => {
    expect(r.quiet.raw.replace(/\r\n/g, '\n')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(r.bars.screen).toContain(`Image id: ${r.quiet.raw.trim()}`);
  });
});
