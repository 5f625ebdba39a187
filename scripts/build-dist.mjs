#!/usr/bin/env node
// Builds dist/ for `npm pack` and `npm ci` (the prepare script) without ever leaving it empty:
// tsup builds into a fresh directory beside it, and each new file then replaces its old self by
// rename(2), which is atomic. A program running dist/cli.js meanwhile (the e2e tests do) finds
// either the old file or the new one, never none. Files the new build no longer makes go last.
// (`npm run build` is plain tsup, which empties dist/ first.)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const next = path.join(root, `.dist-next-${process.pid}`);

const tsup = path.join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js');
try {
  const result = spawnSync(process.execPath, [tsup, '--out-dir', next], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`build-dist: tsup ended with ${result.signal ?? result.status}`);
  fs.mkdirSync(dist, { recursive: true });
  const made = fs.readdirSync(next);
  // Declarations and maps first, entry files last: a new entry never points at a file not there yet.
  const entriesLast = [...made].sort((a, b) => Number(/^(index|cli)\.m?js$/.test(a)) - Number(/^(index|cli)\.m?js$/.test(b)));
  for (const name of entriesLast) fs.renameSync(path.join(next, name), path.join(dist, name));
  for (const name of fs.readdirSync(dist)) {
    if (!made.includes(name)) fs.rmSync(path.join(dist, name), { recursive: true, force: true });
  }
} finally {
  fs.rmSync(next, { recursive: true, force: true });
}
