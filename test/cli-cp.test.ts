/**
 * `ts-container cp` and `ts-container logs --tail/--since/-t` (issue 13), run from the built
 * dist/cli.js as a user runs them, against a detached container of this file's state root.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Container } from '../lib';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { CLI_JS, NODE } from './support/cli';
import { runCgroupParent } from './support/unique';

const rootfs = ensureBusyboxRootfs();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-cli-cp-'));
const stateRoot = path.join(work, 'state');
const made: Container[] = [];

afterEach(() => Promise.all(made.splice(0).map((c) => c.destroy().catch(() => undefined))));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function cli(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(NODE, [CLI_JS, '--root', stateRoot, ...args], { cwd: work, input, timeout: 40000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A detached container that sleeps (its files copied in and out while it runs). */
async function sleeper(): Promise<Container> {
  const c = new Container({ rootfs, stateRoot, detach: true, cgroupParent: runCgroupParent('cli-cp') });
  made.push(c);
  await c.create(['sleep', '1000']);
  await c.start();
  return c;
}

async function inside(c: Container, script: string): Promise<string> {
  const out = await c.exec(['sh', '-c', script], { stdio: 'pipe' }).output();
  return out.stdout;
}

describe('cp', () => {
  test('host to container and back, files and directories, "-" as a tar on stdin and stdout', async () => {
    const c = await sleeper();
    fs.mkdirSync(path.join(work, 'site'));
    fs.writeFileSync(path.join(work, 'site', 'index.html'), 'hello\n');
    expect(cli(['cp', 'site', `${c.id}:/tmp`])).toMatchObject({ status: 0, stderr: '' });
    expect(await inside(c, 'cat /tmp/site/index.html')).toBe('hello\n');
    expect(cli(['cp', `${c.id}:/tmp/site/index.html`, 'back.html']).status).toBe(0);
    expect(fs.readFileSync(path.join(work, 'back.html'), 'utf8')).toBe('hello\n');
    expect(cli(['cp', `${c.id}:/tmp/site`, 'site-copy']).status).toBe(0);
    expect(fs.readFileSync(path.join(work, 'site-copy', 'index.html'), 'utf8')).toBe('hello\n');
    // A tar out on stdout, then in from stdin.
    const tar = cli(['cp', `${c.id}:/tmp/site`, '-']);
    expect(tar.status).toBe(0);
    expect(spawnSync('tar', ['-t'], { input: tar.stdout }).stdout.toString().split('\n').filter(Boolean).sort()).toEqual(['site/', 'site/index.html']);
    await inside(c, 'mkdir /tmp/from-stdin');
    expect(cli(['cp', '-', `${c.id}:/tmp/from-stdin`], tar.stdout).status).toBe(0);
    expect(await inside(c, 'cat /tmp/from-stdin/site/index.html')).toBe('hello\n');
  });

  test('usage errors and failures: messages and exit statuses as docker cp', async () => {
    const c = await sleeper();
    expect(cli(['cp', 'a', 'b'])).toMatchObject({ status: 125 });
    expect(cli(['cp', 'a', 'b']).stderr).toMatch(/one of SRC and DEST must be ID:PATH/);
    expect(cli(['cp', `${c.id}:/a`, `${c.id}:/b`]).stderr).toMatch(/between two containers/);
    const missing = cli(['cp', `${c.id}:/no/such/file`, 'x']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no\/such\/file.*ENOENT|ENOENT.*no\/such\/file|no such file/i);
    expect(fs.existsSync(path.join(work, 'x'))).toBe(false);
    expect(cli(['cp', 'x', 'nosuchcontainer:/tmp']).stderr).toMatch(/no such container: nosuchcontainer/);
  });
});

describe('logs --tail, --since, -t', () => {
  test('the last lines, output since a time, and timestamps before each line', async () => {
    const c = new Container({ rootfs, stateRoot, detach: true, cgroupParent: runCgroupParent('cli-cp') });
    made.push(c);
    await c.create(['sh', '-c', 'echo one; echo two; echo three']);
    await c.start();
    for await (const _ of c.logs({ follow: true })) void _;
    expect(cli(['logs', '--tail', '2', c.id]).stdout.toString()).toBe('two\nthree\n');
    expect(cli(['logs', '-n', 'all', c.id]).stdout.toString()).toBe('one\ntwo\nthree\n');
    expect(cli(['logs', '--since', '10m', c.id]).stdout.toString()).toBe('one\ntwo\nthree\n');
    expect(cli(['logs', '--since', String(Math.floor(Date.now() / 1000) + 3600), c.id]).stdout.toString()).toBe('');
    const stamped = cli(['logs', '-t', '--tail', '1', c.id]).stdout.toString();
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z three\n$/);
    const bad = cli(['logs', '--since', 'yesterday', c.id]);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/--since/);
  });
});
