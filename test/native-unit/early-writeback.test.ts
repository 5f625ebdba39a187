/**
 * startWriteback (native/addon/early_writeback.h): the content store's writer starts each
 * written stretch of a blob on its way to disk; the bytes stay what was written, and a bad fd
 * is an errno error (which the writer ignores: the fsync reports).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../lib/native/binding';

test('starts the writeback of a written stretch; the file is unchanged', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-writeback-'));
  try {
    const file = path.join(dir, 'blob');
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    const fd = fs.openSync(file, 'w+');
    try {
      fs.writeSync(fd, bytes, 0, bytes.length, 0);
      await expect(native().startWriteback(fd, 0, bytes.length)).resolves.toBeUndefined();
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a closed fd rejects with EBADF', async () => {
  const fd = fs.openSync(os.devNull, 'r');
  fs.closeSync(fd);
  await expect(native().startWriteback(fd, 0, 4096)).rejects.toMatchObject({ code: 'EBADF' });
});
