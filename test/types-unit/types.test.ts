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
  // A file of its own, importing nothing: the harness itself must report what tsc finds.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-types-bad-'));
  try {
    const bad = path.join(dir, 'bad.ts');
    fs.writeFileSync(bad, "export const pid: number = 'not a number';\n");
    const r = typeCheck([bad], 'source');
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/bad\.ts\(1,14\): error TS2322: Type 'string' is not assignable to type 'number'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
