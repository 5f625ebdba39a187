/**
 * The C++ unit tests (native/tests/, the ts-container-native-tests target of binding.gyp):
 * plan parsing and run records, no root needed. This runs the built binary and fails when any
 * of its tests fails; a tree whose native build is missing skips with the reason.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const BINARY = path.join(__dirname, '../../build/Release/ts-container-native-tests');
const built = fs.existsSync(BINARY);
const testIfBuilt = built ? test : test.skip;
if (!built) console.warn(`skipped: ${BINARY} is not built (make -C build BUILDTYPE=Release)`);

testIfBuilt('the native unit tests pass', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-native-unit-'));
  try {
    const run = spawnSync(BINARY, [], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
    const output = `${run.stdout}${run.stderr}`;
    expect({ status: run.status, signal: run.signal, output }).toEqual({ status: 0, signal: null, output: expect.stringMatching(/ passed, 0 failed\n/) });
    expect(output).not.toMatch(/^FAIL /m);
    // Every test left its temporary directory behind it empty.
    expect(fs.readdirSync(tmp)).toEqual([]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
