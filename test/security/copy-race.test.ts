/**
 * The docker cp class (CVE-2018-15664: a symlink swapped in while the host copies; CVE-2019-
 * 14271: code of the container loaded by the copy): copyIn and copyOut resolve every path
 * inside the container's root, in native code in this process, so that a link the container
 * plants, or swaps in and out while the copies run, leads at worst to another place inside the
 * container, never to the host's file of that name.
 *
 * The host has a directory SECRET (a file "f" in it); inside the container, /tmp/race/d is a
 * directory, or a symlink to SECRET's path (absolute, or as many ".." as it takes), in turns,
 * as fast as a shell loop swaps it. In the container SECRET's path is a decoy directory of the
 * container's own. Every copy must land in, or read from, the container's directory or its
 * decoy, and SECRET must stay as it was.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { Container } from '../../lib';
import { TarParser } from '../../lib/images/tar/tar-reader';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { useContainers } from '../support/containers';
import { tarBytes } from '../support/tar-writer';

const harness = useContainers({ rootfs: ensureBusyboxRootfs() });
const ROUNDS = 150;

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  harness.tempDirs.push(dir);
  return dir;
}

/** Every file under dir with its contents, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, name);
    const st = fs.lstatSync(full);
    out[name] = st.isFile() ? `${st.mode.toString(8)} ${st.uid} ${fs.readFileSync(full, 'utf8')}` : `${st.mode.toString(8)} ${st.uid}`;
  }
  return out;
}

/** The regular files under dir, found without following any symlink (the copies made some, to the host's path). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The regular files' contents in a tar stream. */
async function tarContents(stream: Readable): Promise<string[]> {
  const contents: string[] = [];
  let current: Buffer[] | undefined;
  const parser = new TarParser({
    entry: (h) => {
      if (current) contents.push(Buffer.concat(current).toString());
      current = h.type === '0' ? [] : undefined;
    },
    data: (chunk) => current?.push(Buffer.from(chunk)),
  });
  for await (const chunk of stream) parser.write(chunk as Buffer);
  parser.finish();
  if (current) contents.push(Buffer.concat(current).toString());
  return contents;
}

/** A container whose /tmp/race/d is swapped between a directory and a symlink to `target`, for good. */
async function racer(target: string, secret: string): Promise<Container> {
  const c = harness.make();
  const script = `
    mkdir -p ${secret} /tmp/race && echo decoy > ${secret}/f
    while :; do
      rm -rf /tmp/race/d; mkdir /tmp/race/d; echo inner > /tmp/race/d/f
      rm -rf /tmp/race/d; ln -s ${target} /tmp/race/d
    done`;
  c.spawn(['sh', '-c', script], { stdio: 'ignore' });
  // Racing once the link has been made at least once.
  for (let i = 0; i < 500; i++) {
    const out = await c.exec(['sh', '-c', `test -f ${secret}/f && echo ready`], { stdio: 'pipe' }).output();
    if (out.stdout === 'ready\n') break;
  }
  return c;
}

describe.each([
  ['an absolute symlink', (secret: string) => secret],
  ['a relative symlink climbing out', (secret: string) => `../../../../../../../..${secret}`],
])('the container swaps /tmp/race/d for %s to the host path', (_name, linkTo) => {
  test('copies in and out race it: each lands inside the container, the host file is untouched', async () => {
    const secret = tempDir('tsc-copy-race-secret-');
    fs.writeFileSync(path.join(secret, 'f'), 'host secret\n', { mode: 0o600 });
    const before = snapshot(secret);
    const source = tempDir('tsc-copy-race-src-');
    fs.writeFileSync(path.join(source, 'f'), 'pwned by hostPath\n');
    const c = await racer(linkTo(secret), secret);
    const outcomes = { ok: 0, failed: 0 };
    const read = new Set<string>();
    const tally = async (copy: () => Promise<unknown>) => {
      try {
        await copy();
        outcomes.ok++;
      } catch (error) {
        // A copy that loses the race fails (the path changed under it); it never goes elsewhere.
        expect(error).toMatchObject({ name: 'ContainerCopyError' });
        outcomes.failed++;
      }
    };
    const extracted = tempDir('tsc-copy-race-out-');
    for (let round = 0; round < ROUNDS; round++) {
      await tally(() => c.copyIn('pwned by a buffer\n', '/tmp/race/d/f'));
      await tally(() => c.copyIn(Readable.from([tarBytes([{ name: 'f', data: 'pwned by a tar\n' }])]), '/tmp/race/d'));
      await tally(() => c.copyIn({ hostPath: path.join(source, 'f') }, '/tmp/race/d/f'));
      await tally(async () => {
        for (const text of await tarContents(await c.copyOut('/tmp/race/d/f'))) read.add(text);
      });
      await tally(async () => {
        for (const text of await tarContents(await c.copyOut('/tmp/race'))) read.add(text);
      });
      await tally(() => c.copyOut('/tmp/race', path.join(extracted, String(round))));
    }
    expect(snapshot(secret)).toEqual(before);
    expect([...read].filter((text) => text.includes('host secret'))).toEqual([]);
    // The race was run: copies got through, and what they read came from both sides of the swap.
    expect(outcomes.ok).toBeGreaterThan(ROUNDS);
    expect(read.size).toBeGreaterThan(1);
    // Nothing extracted on the host followed a link out of its directory either.
    expect(snapshot(secret)).toEqual(before);
    for (const file of filesUnder(extracted)) expect(fs.readFileSync(file, 'utf8')).not.toContain('host secret');
  });
});

test('a static link to the host path: copies go to the container\'s own path of that name', async () => {
  const secret = tempDir('tsc-copy-link-secret-');
  fs.writeFileSync(path.join(secret, 'f'), 'host secret\n');
  const before = snapshot(secret);
  const c = harness.make();
  c.spawn(['sh', '-c', `mkdir -p ${secret} && echo decoy > ${secret}/f && ln -s ${secret} /tmp/link && ln -s ../../../..${secret}/f /tmp/up && sleep 1000`], { stdio: 'ignore' });
  for (let i = 0; i < 500; i++) {
    const out = await c.exec(['sh', '-c', 'test -L /tmp/up && echo ready'], { stdio: 'pipe' }).output();
    if (out.stdout === 'ready\n') break;
  }
  await c.copyIn('written through the link\n', '/tmp/link/f');
  await c.copyIn('written through the link\n', '/tmp/link/new');
  expect(snapshot(secret)).toEqual(before);
  expect(await tarContents(await c.copyOut('/tmp/link/f'))).toEqual(['written through the link\n']);
  // A symlink as the last component is copied as itself, not followed.
  const host = tempDir('tsc-copy-link-out-');
  await c.copyOut('/tmp/up', path.join(host, 'up'));
  expect(fs.lstatSync(path.join(host, 'up')).isSymbolicLink()).toBe(true);
  expect(fs.readlinkSync(path.join(host, 'up'))).toBe(`../../../..${secret}/f`);
  expect(snapshot(secret)).toEqual(before);
});
