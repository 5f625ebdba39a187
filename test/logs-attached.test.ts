/**
 * logs() of any container (issue 13): one that is not detached has what its main process's
 * 'pipe' stdio passed through Node, capped as a detached log is; with 'inherit' or 'ignore'
 * logs() fails with ContainerLogsError. since and tail select, for detached containers too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container, ContainerLogsError } from '../lib';
import type { LogOptions, LogRecord } from '../lib/state/types';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { useContainers } from './support/containers';

const rootfs = ensureBusyboxRootfs();
const harness = useContainers({ rootfs });
const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-logs-attached-'));
harness.tempDirs.push(stateRoot);

async function all(c: Container, options?: LogOptions): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const record of c.logs(options)) out.push(record);
  return out;
}

const text = (records: LogRecord[], stream?: 'stdout' | 'stderr') =>
  Buffer.concat(records.filter((r) => stream === undefined || r.stream === stream).map((r) => r.data)).toString();

describe('a container that is not detached', () => {
  test("what its 'pipe' stdout and stderr passed, tagged by stream and timed; the caller still reads it all", async () => {
    const before = Date.now();
    const c = harness.make();
    const p = c.spawn(['sh', '-c', 'echo out; echo err >&2; echo more'], { stdio: 'pipe' });
    const output = await p.output();
    expect(output).toMatchObject({ stdout: 'out\nmore\n', stderr: 'err\n' });
    const records = await all(c);
    expect(text(records, 'stdout')).toBe('out\nmore\n');
    expect(text(records, 'stderr')).toBe('err\n');
    for (const r of records) expect(r.time.getTime()).toBeGreaterThanOrEqual(before);
    // timestamps, as docker's logs takes it: the records carry their time either way.
    // (the last line as Node read the two pipes: either one's)
    const stamped = await all(c, { timestamps: true, tail: 1 });
    expect(text(stamped)).toMatch(/^(more|err)\n$/);
    expect(stamped[0]?.time.getTime()).toBeGreaterThanOrEqual(before);
  });

  test('follow goes on until the output has closed', async () => {
    const c = harness.make();
    const p = c.spawn(['sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const following = all(c, { follow: true });
    p.stdout?.resume();
    const records = await following;
    expect(text(records)).toBe('line 1\nline 2\nline 3\n');
    expect(p.exitCode).toBe(0);
  });

  test('with a terminal, what the terminal passed (stdout and stderr merged there)', async () => {
    const c = harness.make({ tty: true });
    const out = await c.spawn(['sh', '-c', 'echo on the terminal; echo and its stderr >&2']).output();
    expect(out.stdout).toContain('on the terminal');
    const records = await all(c);
    expect(records.every((r) => r.stream === 'stdout')).toBe(true);
    expect(text(records)).toBe(out.stdout);
  });

  test('tail: the last N lines, even when chunks hold several; since: records from then on', async () => {
    const c = harness.make();
    await c.spawn(['sh', '-c', 'printf "a\\nb\\nc\\nd\\n"; printf "e\\nf"'], { stdio: 'pipe' }).output();
    expect(text(await all(c, { tail: 2 }))).toBe('e\nf');
    expect(text(await all(c, { tail: 3 }))).toBe('d\ne\nf');
    expect(await all(c, { tail: 0 })).toEqual([]);
    expect(text(await all(c, { tail: 100 }))).toBe('a\nb\nc\nd\ne\nf');
    expect(await all(c, { since: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(text(await all(c, { since: 0 }))).toBe('a\nb\nc\nd\ne\nf');
  });

  test('capped as a detached log is: the newest maxSize x maxFiles bytes, with no gap', async () => {
    const c = harness.make({ log: { maxSize: '64k', maxFiles: 1 } });
    // 20000 numbered lines, about 150 KB.
    const out = await c.spawn(['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo $i; i=$((i+1)); done'], { stdio: 'pipe' }).output({ maxBuffer: 1 << 22 });
    expect(out.stdout.length).toBeGreaterThan(100_000);
    const kept = text(await all(c));
    expect(kept.length).toBeLessThanOrEqual(64 * 1024);
    expect(out.stdout.endsWith(kept)).toBe(true);
    expect(kept.endsWith('19999\n')).toBe(true);
  });

  test("with 'inherit' or 'ignore', logs() fails with ContainerLogsError; before spawn, ContainerStateError", async () => {
    const c = harness.make();
    expect(() => c.logs()).toThrow(/no main process yet/);
    await c.spawn(['true'], { stdio: 'ignore' }).wait();
    expect(() => c.logs()).toThrow(ContainerLogsError);
    const d = harness.make();
    await d.spawn(['true'], { stdio: ['pipe', 'inherit', 'ignore'] }).wait();
    await expect(all(d)).rejects.toMatchObject({ name: 'ContainerLogsError', code: 'ENOCONTAINERLOGS' });
  });

  test('bad options are TypeErrors naming the option', () => {
    const c = harness.make();
    expect(() => c.logs({ tail: -1 })).toThrow(/^logs: tail: /);
    expect(() => c.logs({ since: 'yesterday' as never })).toThrow(/^logs: since: /);
    expect(() => c.logs({ follow: 1 as never })).toThrow(/^logs: follow: /);
    expect(() => c.logs({ timestamps: 'yes' as never })).toThrow(/^logs: timestamps: expected a boolean/);
    expect(() => c.logs({ colors: true } as never)).toThrow(/^logs: options.colors: unknown option/);
  });
});

describe('a detached container', () => {
  test('tail and since select from its log file too', async () => {
    const c = new Container({ rootfs, stateRoot, detach: true });
    try {
      await c.create(['sh', '-c', 'echo one; echo two; echo three']);
      await c.start();
      const records: LogRecord[] = [];
      for await (const r of c.logs({ follow: true })) records.push(r);
      expect(text(await all(c, { tail: 1 }))).toBe('three\n');
      expect(text(await all(c, { tail: 2 }))).toBe('two\nthree\n');
      const last = records[records.length - 1] as LogRecord;
      expect(text(await all(c, { since: last.time }))).toContain('three\n');
      expect(await all(c, { since: last.time.getTime() + 1 })).toEqual([]);
    } finally {
      await c.destroy();
    }
  });
});
