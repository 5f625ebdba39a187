/**
 * removeTree (native/addon/remove_tree.h): the background removal of a destroyed container's
 * state directory and writable layer, whose files a container may have made. It removes the
 * whole tree, never what a link inside points to, and reports what it could not remove.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../lib/native/binding';

let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-remove-tree-'));
});

afterEach(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('removes files, directories, links, FIFOs and a deep tree, and nothing a link points to', async () => {
  const outside = path.join(scratch, 'outside');
  fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'file'), 'kept');
  fs.writeFileSync(path.join(outside, 'dir', 'inner'), 'kept');
  const tree = path.join(scratch, 'tree');
  fs.mkdirSync(path.join(tree, 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'a', 'b', 'file'), 'x');
  fs.writeFileSync(path.join(tree, 'top'), 'x');
  fs.symlinkSync(path.join(outside, 'dir'), path.join(tree, 'a', 'to-dir'));
  fs.symlinkSync(path.join(outside, 'file'), path.join(tree, 'to-file'));
  fs.symlinkSync('/no/such/target', path.join(tree, 'dangling'));
  require('node:child_process').execFileSync('mkfifo', [path.join(tree, 'fifo')]);
  let deep = path.join(tree, 'deep');
  for (let i = 0; i < 300; i++) deep = path.join(deep, 'd');
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'leaf'), 'x');

  await native().removeTree(tree);

  expect(fs.existsSync(tree)).toBe(false);
  expect(fs.readFileSync(path.join(outside, 'file'), 'utf8')).toBe('kept');
  expect(fs.readFileSync(path.join(outside, 'dir', 'inner'), 'utf8')).toBe('kept');
});

test('a link given as the path is removed itself, not its target', async () => {
  const target = path.join(scratch, 'target');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'file'), 'kept');
  const link = path.join(scratch, 'link');
  fs.symlinkSync(target, link);
  await native().removeTree(link);
  expect(fs.existsSync(link)).toBe(false);
  expect(fs.readFileSync(path.join(target, 'file'), 'utf8')).toBe('kept');
});

test('a path already gone resolves; one it cannot reach rejects with an errno error', async () => {
  await expect(native().removeTree(path.join(scratch, 'missing'))).resolves.toBeUndefined();
  fs.writeFileSync(path.join(scratch, 'file'), 'x');
  await expect(native().removeTree(path.join(scratch, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
});

test('only an absolute path ending in a name is taken', () => {
  for (const bad of ['relative/path', '/', `${scratch}/`, `${scratch}/..`, `${scratch}/.`]) {
    let thrown: unknown;
    try {
      void native().removeTree(bad);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'TypeError', message: expect.stringContaining('absolute path') });
  }
  expect(fs.existsSync(scratch)).toBe(true);
});
