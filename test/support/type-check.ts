/**
 * Runs the TypeScript compiler (--strict, no emit) over files that import 'ts-container' as a
 * user does, against the sources (lib/index.ts) or the built package's types (dist/index.d.ts),
 * with test/types/tsconfig.json's settings. Returns tsc's exit status and its diagnostics.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
export const TYPE_TESTS_DIR = path.join(ROOT, 'test', 'types');

export interface TypeCheckResult {
  status: number | null;
  /** tsc's diagnostics, one per line ("file(line,col): error TSxxxx: ..."). */
  output: string;
}

/** The type tests' files: every .ts of test/types. */
export function typeTestFiles(): string[] {
  return fs.readdirSync(TYPE_TESTS_DIR).filter((f) => f.endsWith('.ts')).map((f) => path.join(TYPE_TESTS_DIR, f));
}

export function typeCheck(files: string[], against: 'source' | 'dist'): TypeCheckResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-types-'));
  try {
    const target = against === 'source' ? path.join(ROOT, 'lib', 'index.ts') : path.join(ROOT, 'dist', 'index.d.ts');
    const config = {
      extends: path.join(TYPE_TESTS_DIR, 'tsconfig.json'),
      compilerOptions: { paths: { 'ts-container': [target] }, typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      files,
      include: [],
    };
    const configFile = path.join(dir, 'tsconfig.json');
    fs.writeFileSync(configFile, JSON.stringify(config));
    const r = spawnSync(process.execPath, [TSC, '-p', configFile, '--pretty', 'false'], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
