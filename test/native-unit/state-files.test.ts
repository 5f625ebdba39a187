/**
 * DirectoryHandle's writes (lib/state/state-io.ts over native/addon/files_at.h): each file of a
 * state directory is written through the directory's fd in one native call, never through a
 * link, replaced whole, and a failure leaves no temporary and comes as Node's fs errors do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DirectoryHandle, uniqueSuffix } from '../../lib/state/state-io';

let dir: string;
let handle: DirectoryHandle;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-state-files-'));
  handle = DirectoryHandle.open(dir);
});

afterEach(() => {
  try {
    handle.close();
  } catch {
    // closed by the test
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const names = (): string[] => fs.readdirSync(dir).sort();

test('writeNew makes the file with its bytes and mode; an existing name is EEXIST and stays as it was', () => {
  handle.writeNew('state.json', '{"a":1}\n');
  expect(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe('{"a":1}\n');
  expect(fs.statSync(path.join(dir, 'state.json')).mode & 0o777).toBe(0o600);
  expect(() => handle.writeNew('state.json', 'other')).toThrow(expect.objectContaining({ code: 'EEXIST', errno: -17, syscall: 'write' }));
  expect(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe('{"a":1}\n');
});

test('writeAtomic replaces the file whole and leaves no temporary', () => {
  handle.writeAtomic('state.json', 'first');
  handle.writeAtomic('state.json', 'x'.repeat(200_000));
  expect(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).toBe('x'.repeat(200_000));
  expect(names()).toEqual(['state.json']);
});

test('writeAtomic over a link replaces the link and writes nothing where it pointed', () => {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-state-files-outside-'));
  try {
    fs.writeFileSync(path.join(outside, 'target'), 'untouched');
    fs.symlinkSync(path.join(outside, 'target'), path.join(dir, 'run.json'));
    handle.writeAtomic('run.json', 'mine');
    expect(fs.lstatSync(path.join(dir, 'run.json')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')).toBe('mine');
    expect(fs.readFileSync(path.join(outside, 'target'), 'utf8')).toBe('untouched');
    expect(names()).toEqual(['run.json']);
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

test('openFile never follows a link (ELOOP) and opens through the fd after a rename of the directory', () => {
  fs.symlinkSync('/etc/hostname', path.join(dir, 'lock'));
  expect(() => handle.openFile('lock', 'read')).toThrow(expect.objectContaining({ code: 'ELOOP', syscall: 'open' }));
  const moved = `${dir}-moved`;
  fs.renameSync(dir, moved);
  try {
    const fd = handle.openFile('write.lock', 'append');
    fs.closeSync(fd);
    expect(fs.existsSync(path.join(moved, 'write.lock'))).toBe(true);
  } finally {
    fs.renameSync(moved, dir);
  }
});

test('readText: the text, undefined for a missing name, and an error for a link (ELOOP) or a directory', () => {
  handle.writeNew('record.json', '{"a":1}\n');
  expect(handle.readText('record.json')).toBe('{"a":1}\n');
  expect(handle.readText('never-written.json')).toBeUndefined();
  fs.symlinkSync('/etc/hostname', path.join(dir, 'linked.json'));
  expect(() => handle.readText('linked.json')).toThrow(expect.objectContaining({ code: 'ELOOP', syscall: 'open' }));
  fs.mkdirSync(path.join(dir, 'a-directory'));
  expect(() => handle.readText('a-directory')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
});

test('a write into a directory that was removed fails with ENOENT and makes nothing', () => {
  const gone = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-state-files-gone-'));
  const goneHandle = DirectoryHandle.open(gone);
  fs.rmdirSync(gone);
  try {
    expect(() => goneHandle.writeAtomic('state.json', 'lost')).toThrow(expect.objectContaining({ code: 'ENOENT', errno: -2 }));
    expect(() => goneHandle.writeNew('config.json', 'lost')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  } finally {
    goneHandle.close();
  }
  expect(fs.existsSync(gone)).toBe(false);
});

test('readText reads a file larger than one read whole, as UTF-8', () => {
  handle.writeNew('state.json', `{"name":"é-ü","pad":"${'y'.repeat(100_000)}"}\n`);
  expect(JSON.parse(handle.readText('state.json') as string)).toEqual({ name: 'é-ü', pad: 'y'.repeat(100_000) });
});

test('uniqueSuffix never repeats in a process and differs between processes', () => {
  const seen = new Set(Array.from({ length: 5000 }, () => uniqueSuffix()));
  expect(seen.size).toBe(5000);
  for (const suffix of seen) expect(suffix).toMatch(/^[0-9a-f]{8}[0-9a-z]+$/);
  const module = JSON.stringify(path.resolve(__dirname, '../../lib/state/state-io.ts'));
  const other = spawnSync(process.execPath, [require.resolve('tsx/cli'), '-e', `process.stdout.write(require(${module}).uniqueSuffix())`], { encoding: 'utf8' });
  expect(other.status).toBe(0);
  expect(other.stdout).toMatch(/^[0-9a-f]{8}0$/);
  expect(other.stdout.slice(0, 8)).not.toBe([...seen][0].slice(0, 8));
});
