/**
 * Every example of the README's "Image commands" section works: its session is run line by
 * line (test/support/readme-session.ts) and each line must exit as its comment says (0 unless
 * "exit status N"), and print what a "prints:" comment says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_JS, NODE } from './support/cli';
import type { LineOutcome } from './support/readme-session';
import { runInTestNetwork } from './support/test-network';
import { buildTestImage } from './support/test-images';
import { removeTempDirs, tempDir } from './support/temp-dirs';

/** The command lines of the sh blocks of one README section. */
function sectionLines(heading: string): string[] {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section ${heading}`);
  const end = readme.indexOf('\n### ', start + heading.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const lines: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    lines.push(...block[1].split('\n').filter((l) => l.trim() !== ''));
  }
  return lines;
}

/** What a line's comment promises: its exit status, and its output when it says "prints:". */
function expectation(line: string): { status: number; prints?: string } {
  const comment = /\s#\s(.*)$/.exec(line)?.[1] ?? '';
  const status = /^exit status (\d+)/.exec(comment);
  const prints = /^prints: (.*)$/.exec(comment);
  return { status: status ? Number(status[1]) : 0, ...(prints && { prints: prints[1] }) };
}

const lines = sectionLines('### Image commands');
let outcomes: LineOutcome[];

beforeAll(async () => {
  const image = buildTestImage('busybox', tempDir('tsc-readme-img-'));
  outcomes = await runInTestNetwork<LineOutcome[]>(path.join(__dirname, 'support', 'readme-session.ts'), 'runReadmeSession', {
    node: NODE,
    cli: CLI_JS,
    layout: image.layout,
    lines,
    stateRoot: tempDir('tsc-readme-state-'),
    dataRoot: tempDir('tsc-readme-data-'),
  }, 400_000);
}, 500_000);

afterAll(() => removeTempDirs());

test('the section has a session to run', () => {
  expect(lines.length).toBeGreaterThan(10);
  expect(lines.every((l) => l.startsWith('ts-container '))).toBe(true);
});

test.each(lines.map((line, index) => [index + 1, line] as const))('line %i: %s', (index, line) => {
  const outcome = outcomes[index - 1];
  const { status, prints } = expectation(line);
  if (outcome.status !== status) {
    throw new Error(`exit status ${outcome.status}, the README says ${status}:\n${outcome.stderr}${outcome.stdout}`);
  }
  if (prints !== undefined) expect(outcome.stdout.trim()).toBe(prints);
});
