/**
 * removeDirectories (native/addon/remove_directories.h): the rmdir(2) of a container's cgroups
 * on libuv's pool at its exit. Each path is removed in the order given and gets its own
 * outcome (0 or the errno), so that the caller keeps what is still there for a retry. With
 * untilFailure, the first failure ends the call: a container's primary cgroup, given last,
 * goes only once every other has.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../lib/native/binding';

const { ENOENT, ENOTEMPTY, ENOTDIR, ECANCELED } = os.constants.errno;

let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-remove-directories-'));
});

afterEach(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('removes each empty directory, child before parent in the order given', async () => {
  const parent = path.join(scratch, 'parent');
  const child = path.join(parent, 'child');
  const other = path.join(scratch, 'other');
  fs.mkdirSync(child, { recursive: true });
  fs.mkdirSync(other);
  expect(await native().removeDirectories([child, parent, other])).toEqual([0, 0, 0]);
  expect(fs.readdirSync(scratch)).toEqual([]);
});

test('each path has its own outcome: one that fails leaves the others removed', async () => {
  const full = path.join(scratch, 'full');
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, 'file'), 'x');
  const file = path.join(scratch, 'file');
  fs.writeFileSync(file, 'x');
  const empty = path.join(scratch, 'empty');
  fs.mkdirSync(empty);
  const outcomes = await native().removeDirectories([path.join(scratch, 'missing'), full, file, empty]);
  expect(outcomes).toEqual([ENOENT, ENOTEMPTY, ENOTDIR, 0]);
  // What failed is as it was; a file is never unlinked.
  expect(fs.readdirSync(scratch).sort()).toEqual(['file', 'full']);
  expect(fs.readdirSync(full)).toEqual(['file']);
});

test('untilFailure: what follows the first failure is not tried (ECANCELED), a missing one is no failure', async () => {
  const first = path.join(scratch, 'first');
  const full = path.join(scratch, 'full');
  const last = path.join(scratch, 'last');
  fs.mkdirSync(first);
  fs.mkdirSync(full);
  fs.writeFileSync(path.join(full, 'file'), 'x');
  fs.mkdirSync(last);
  const outcomes = await native().removeDirectories([path.join(scratch, 'missing'), first, full, last], true);
  expect(outcomes).toEqual([ENOENT, 0, ENOTEMPTY, ECANCELED]);
  expect(fs.readdirSync(scratch).sort()).toEqual(['full', 'last']);
  // Once nothing fails, every path goes, as without the flag.
  fs.rmSync(path.join(full, 'file'));
  expect(await native().removeDirectories([full, last], true)).toEqual([0, 0]);
  expect(fs.readdirSync(scratch)).toEqual([]);
});

test('untilFailure other than a boolean is a TypeError', () => {
  const call = (): unknown => (native().removeDirectories as (p: unknown, u: unknown) => Promise<number[]>)([path.join(scratch, 'x')], 'yes');
  expect(call).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^removeDirectories/) }));
});

test('a canceller cancelled before the call: nothing is removed, every path reports ECANCELED', async () => {
  const dirs = ['a', 'b', 'c'].map((name) => path.join(scratch, name));
  for (const dir of dirs) fs.mkdirSync(dir);
  const canceller = new (native().RemovalCanceller)();
  expect(canceller.cancel()).toEqual([]);
  expect(await native().removeDirectories(dirs, false, canceller)).toEqual([ECANCELED, ECANCELED, ECANCELED]);
  expect(fs.readdirSync(scratch).sort()).toEqual(['a', 'b', 'c']);
});

test('cancel() during the call: what it reports removed is gone, nothing is removed after it returns', async () => {
  const dirs = Array.from({ length: 3000 }, (_, i) => path.join(scratch, `d${i}`));
  for (const dir of dirs) fs.mkdirSync(dir);
  const canceller = new (native().RemovalCanceller)();
  const removal = native().removeDirectories(dirs, false, canceller);
  // Somewhere in the list, or before it starts, or after it ends: each is a valid moment.
  await new Promise((resolve) => setImmediate(resolve));
  const atCancel = canceller.cancel();
  const left = new Set(fs.readdirSync(scratch));
  const outcomes = await removal;
  // cancel() said what was done, as the promise says it: nothing after.
  expect(atCancel).toEqual(outcomes);
  expect(new Set(fs.readdirSync(scratch))).toEqual(left);
  // Removed in order up to the cancel, then none.
  const removed = outcomes.filter((o) => o === 0).length;
  expect(outcomes).toEqual([...Array(removed).fill(0), ...Array(dirs.length - removed).fill(ECANCELED)]);
  expect(left.size).toBe(dirs.length - removed);
});

test('cancel() after the call has done its work reports every outcome, and removes nothing more', async () => {
  const dirs = ['a', 'b'].map((name) => path.join(scratch, name));
  for (const dir of dirs) fs.mkdirSync(dir);
  const canceller = new (native().RemovalCanceller)();
  expect(await native().removeDirectories(dirs, true, canceller)).toEqual([0, 0]);
  // The same names made again (by the next owner): cancel() only reports.
  for (const dir of dirs) fs.mkdirSync(dir);
  expect(canceller.cancel()).toEqual([0, 0]);
  expect(fs.readdirSync(scratch).sort()).toEqual(['a', 'b']);
});

test('a canceller is only a RemovalCanceller: another object, or another native one, is a TypeError', () => {
  const dir = path.join(scratch, 'x');
  for (const bad of [{}, { cancel() {} }, new (native().StreamHash)()]) {
    const call = (): unknown => (native().removeDirectories as (p: unknown, u: unknown, c: unknown) => Promise<number[]>)([dir], false, bad);
    expect(call).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^removeDirectories/) }));
  }
});

test('a link to a directory is not followed: its target stays', async () => {
  const target = path.join(scratch, 'target');
  fs.mkdirSync(target);
  const link = path.join(scratch, 'link');
  fs.symlinkSync(target, link);
  expect(await native().removeDirectories([link])).toEqual([ENOTDIR]);
  expect(fs.statSync(target).isDirectory()).toBe(true);
});

test.each([
  ['not a list', 'a/b'],
  ['a relative path', ['relative/dir']],
  ['a path that is not a string', [7]],
  ['a NUL inside', ['/tmp/a\0b']],
])('%s is a TypeError, before anything is removed', (_name, bad) => {
  const call = (): unknown => (native().removeDirectories as (p: unknown) => Promise<number[]>)(bad);
  // The addon's TypeError is of Node's realm, not the test's: matched by name.
  expect(call).toThrow(expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^removeDirectories/) }));
});
