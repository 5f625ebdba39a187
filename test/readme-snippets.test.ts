/**
 * Every TypeScript and JavaScript snippet of README.md compiles as written against the built
 * package's types (dist/index.d.ts, imported as 'ts-container'), under --strict; and the first
 * one, with its plain-JavaScript form, runs as the README says to run it on Node 20: `npx tsx
 * app.mts` and `node app.mjs`, in a project that has ts-container installed, as root.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readmeSnippets, type Snippet } from './support/readme-snippets';
import { typeCheck } from './support/type-check';
import { removeTempDirs, tempDir } from './support/temp-dirs';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const snippets = readmeSnippets();

afterAll(() => removeTempDirs());

/** A project with ts-container in its node_modules (this checkout, built), and one file in it. */
function projectWith(file: string, code: string): string {
  const dir = tempDir('tsc-readme-app-');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'ts-container'));
  fs.writeFileSync(path.join(dir, file), code);
  return dir;
}

/** Runs a program of such a project with its own state and data roots. */
function runIn(dir: string, argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, TS_CONTAINER_STATE_ROOT: tempDir('tsc-readme-state-'), TS_CONTAINER_DATA_ROOT: tempDir('tsc-readme-data-') };
  const r = spawnSync(argv[0], argv.slice(1), { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('README.md has TypeScript snippets, the first with its JavaScript form', () => {
  expect(snippets.filter((s) => s.lang === 'ts').length).toBeGreaterThan(5);
  expect(snippets[0].lang).toBe('ts');
  expect(snippets[1].lang).toBe('js');
});

test('every snippet type-checks against the package types, as written', () => {
  const dir = tempDir('tsc-readme-snippets-');
  // Named by the README line each starts on, so that a diagnostic points there.
  const files = snippets.map((s: Snippet) => {
    const file = path.join(dir, `README.md-line-${s.line}.ts`);
    fs.writeFileSync(file, s.code);
    return file;
  });
  const r = typeCheck(files, 'dist');
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}, 120_000);

test('the first snippet runs with tsx as app.mts and prints what its comment says', () => {
  const dir = projectWith('app.mts', snippets[0].code);
  const r = runIn(dir, [process.execPath, TSX, 'app.mts']);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('box\n0\n\n');
  expect(r.status).toBe(0);
});

test('its plain-JavaScript form runs with node as app.mjs', () => {
  const dir = projectWith('app.mjs', snippets[1].code);
  const r = runIn(dir, [process.execPath, 'app.mjs']);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('box\n0\n\n');
  expect(r.status).toBe(0);
});
