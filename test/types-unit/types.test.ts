/**
 * The type tests: test/types/*.ts hold expected uses of the public API and, marked
 * `// @ts-expect-error`, expected errors. tsc --strict must accept them all against the sources
 * (an expected error that does not happen fails too). test/package-types.test.ts checks the
 * same files against the built dist/index.d.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { typeCheck, typeTestFiles } from '../support/type-check';

test('the type tests compile under --strict, each expected error where it is marked', () => {
  const files = typeTestFiles();
  expect(files.length).toBeGreaterThan(0);
  const r = typeCheck(files, 'source');
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}, 120_000);

test('the check fails on a type error (it is not a check that cannot fail)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-types-bad-'));
  try {
    const bad = path.join(dir, 'bad.ts');
    fs.writeFileSync(bad, "import { Container } from 'ts-container';\nnew Container().exec(['x'], { stdio: 'inherit' }).stdout.pipe(process.stdout);\n");
    const r = typeCheck([bad], 'source');
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/bad\.ts\(2,\d+\): error TS(2531|18047): .*possibly 'null'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
