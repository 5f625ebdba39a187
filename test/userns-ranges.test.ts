/**
 * ts-container's range in /etc/subuid and /etc/subgid (lib/userns/subordinate-ids.ts), on
 * files of the test's own: found when present, appended (above every other entry and above
 * what useradd hands out) when missing, and announced once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { reservedRanges, RESERVED_RANGE_SIZE } from '../lib/userns/subordinate-ids';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-subids-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function files(subuid: string, subgid: string, loginDefs = 'SUB_UID_MAX\t\t600100000\nSUB_GID_MAX 600100000\n') {
  const f = { subuid: path.join(dir, 'subuid'), subgid: path.join(dir, 'subgid'), loginDefs: path.join(dir, 'login.defs') };
  fs.writeFileSync(f.subuid, subuid);
  fs.writeFileSync(f.subgid, subgid);
  fs.writeFileSync(f.loginDefs, loginDefs);
  return f;
}

test('an existing entry is used as it is, and nothing is written', () => {
  const f = files('alice:100000:65536\nts-container:1000000000:300000000\n', 'ts-container:2000000000:268435456\n');
  expect(reservedRanges(f)).toEqual({ uid: { start: 1000000000, count: 300000000 }, gid: { start: 2000000000, count: 268435456 } });
  expect(fs.readFileSync(f.subuid, 'utf8')).toBe('alice:100000:65536\nts-container:1000000000:300000000\n');
});

test('a missing entry is appended to both files, above useradd\'s range and every entry, and announced', () => {
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  const f = files('alice:100000:65536\nbob:700000000:65536', 'alice:100000:65536\n');
  const { uid, gid } = reservedRanges(f);
  // 700065536 rounded up to a 65536 boundary.
  const start = Math.ceil(700065536 / 65536) * 65536;
  expect(uid).toEqual({ start, count: RESERVED_RANGE_SIZE });
  expect(gid).toEqual(uid);
  expect(fs.readFileSync(f.subuid, 'utf8')).toBe(`alice:100000:65536\nbob:700000000:65536\nts-container:${start}:${RESERVED_RANGE_SIZE}\n`);
  expect(fs.readFileSync(f.subgid, 'utf8')).toBe(`alice:100000:65536\nts-container:${start}:${RESERVED_RANGE_SIZE}\n`);
  // Read back, not appended twice.
  expect(reservedRanges(f)).toEqual({ uid, gid });
  expect(fs.readFileSync(f.subuid, 'utf8').match(/ts-container/g)).toHaveLength(1);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0][0])).toContain(`added "ts-container:${start}:${RESERVED_RANGE_SIZE}" to ${f.subuid} and ${f.subgid}`);
  warn.mockRestore();
});

test('with empty files, the range starts above SUB_UID_MAX so that useradd never hands out its ids', () => {
  const { uid } = reservedRanges(files('', ''));
  expect(uid.start).toBeGreaterThan(600100000);
  expect(uid.start % 65536).toBe(0);
});

test('no room left for the range is a clear error', () => {
  expect(() => reservedRanges(files('big:100000:4294000000\n', ''))).toThrow(/no free range of 268435456 ids/);
});
