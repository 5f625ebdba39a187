/**
 * The `ts-container` command: argument parsing (pure unit tests) and the CLI run end to end
 * as a user runs it (real containers: needs root and the built addon and helper).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCommandLine } from '../lib/cli/program';
import { helpText } from '../lib/cli/help';
import type { ParseContext } from '../lib/cli/parsed';
import { describeFailure, exitCodeOf, runCommand } from '../lib/cli/run-command';
import { ContainerSetupError } from '../lib';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { CLI_JS, NODE } from './support/cli';
import { usageError } from './support/usage-error';

const ROOT = path.resolve(__dirname, '..');
const MAIN_HELP = helpText('main');
const RUN_HELP = helpText('run');
const parseRun = (args: string[], ctx?: ParseContext) => parseCommandLine(['run', ...args], ctx);

describe('parseCommandLine', () => {
  test('help and version', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', topic: 'main' });
    expect(parseCommandLine(['-h'])).toEqual({ kind: 'help', topic: 'main' });
    expect(parseCommandLine(['help', 'run'])).toEqual({ kind: 'help', topic: 'run' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['-V'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['run', '--help'])).toEqual({ kind: 'help', topic: 'run' });
    expect(parseCommandLine(['run', '--hostname', 'x', '-h'])).toEqual({ kind: 'help', topic: 'run' });
    expect(MAIN_HELP).toMatch(/Usage: ts-container/);
    expect(RUN_HELP).toMatch(/-v, --volume SRC:DST/);
    expect(RUN_HELP).toMatch(/--mount type=TYPE,src=SRC,dst=DST/);
  });

  test('no command, unknown command, unknown top-level flag', () => {
    expect(usageError(() => parseCommandLine([])).message).toMatch(/no command/);
    expect(usageError(() => parseCommandLine(['frobnicate'])).message).toMatch(/unknown command 'frobnicate'/);
    const e = usageError(() => parseCommandLine(['--bogus']));
    expect(e.flag).toBe('--bogus');
    expect(e.topic).toBe('main');
  });

  test('run with -- and every flag', () => {
    const r = parseCommandLine(
      [
        'run', '--rootfs', 'rfs', '--mount', '/src:/work:ro', '-v', 'rel:/rw', '--mount=/a:/b:rw',
        '--tmpfs', '/scratch', '--tmpfs=/t:size=64m,mode=1777', '--network', 'host', '--hostname', 'box',
        '-e', 'FOO=bar', '-eA=b=c', '--env=EMPTY=', '-w', '/work', '--no-readonly', '--user', '1000:100', '--init',
        '--', 'sh', '-c', 'echo hi',
      ],
      { cwd: '/home/me' },
    );
    expect(r).toEqual({
      kind: 'run',
      argv: ['sh', '-c', 'echo hi'],
      options: {
        rootfs: '/home/me/rfs',
        mounts: [
          { type: 'bind', source: '/src', target: '/work', readonly: true },
          { type: 'bind', source: '/home/me/rel', target: '/rw' },
          { type: 'bind', source: '/a', target: '/b' },
          { type: 'tmpfs', target: '/scratch' },
          { type: 'tmpfs', target: '/t', size: '64m', mode: '1777' },
        ],
        network: 'host',
        hostname: 'box',
        env: { FOO: 'bar', A: 'b=c', EMPTY: '' },
        cwd: '/work',
        readonly: false,
        user: '1000:100',
        init: true,
      },
    });
  });

  test('run without --: the first non-flag argument is the image, the rest its command', () => {
    expect(parseRun(['--hostname', 'h', 'alpine', 'ls', '-l', '--', '-x'])).toEqual({
      kind: 'run',
      options: { hostname: 'h', image: 'alpine' },
      argv: ['ls', '-l', '--', '-x'],
    });
    // Flags after the image belong to the command.
    expect(parseRun(['alpine', 'echo', '--help'])).toEqual({ kind: 'run', options: { image: 'alpine' }, argv: ['echo', '--help'] });
    expect(parseRun(['--', 'echo', '--help'])).toEqual({ kind: 'run', options: {}, argv: ['echo', '--help'] });
    expect(parseRun(['--', '--weird-program'])).toEqual({ kind: 'run', options: {}, argv: ['--weird-program'] });
  });

  test('defaults: nothing set that the user did not ask for', () => {
    expect(parseRun(['--', 'true'])).toEqual({ kind: 'run', options: {}, argv: ['true'] });
    expect(parseRun(['--readonly', '--', 'true'])).toEqual({ kind: 'run', options: { readonly: true }, argv: ['true'] });
    expect(parseRun(['--user', '0', '--', 'id'])).toEqual({ kind: 'run', options: { user: '0' }, argv: ['id'] });
    expect(parseRun(['-u1000', '--', 'id'])).toEqual({ kind: 'run', options: { user: '1000' }, argv: ['id'] });
    expect(parseRun(['-w/tmp', '--', 'pwd'])).toEqual({ kind: 'run', options: { cwd: '/tmp' }, argv: ['pwd'] });
    // The library's rules decide what is accepted: any variable name without '=' or NUL, and a
    // writable host root (whose files stay as closed to the container's unmapped root as their
    // permissions say).
    expect(parseRun(['-e', '1X=y', '--', 'env'])).toEqual({ kind: 'run', options: { env: { '1X': 'y' } }, argv: ['env'] });
    expect(parseRun(['--no-readonly', '--', 'true'])).toEqual({ kind: 'run', options: { readonly: false }, argv: ['true'] });
  });

  test('-e NAME passes the caller\'s variable through, or nothing when unset', () => {
    const env = { HOME_X: '/home/x' };
    expect(parseRun(['-e', 'HOME_X', '--', 'env'], { env })).toEqual({ kind: 'run', options: { env: { HOME_X: '/home/x' } }, argv: ['env'] });
    expect(parseRun(['-e', 'UNSET_X', '--', 'env'], { env })).toEqual({ kind: 'run', options: {}, argv: ['env'] });
    // The last of repeated names wins.
    expect(parseRun(['-e', 'A=1', '-e', 'A=2', '--', 'env'])).toMatchObject({ options: { env: { A: '2' } } });
  });

  test.each([
    [['--mount', '/src', 'sh'], '--mount', /expected SRC:DST/],
    [['--mount', '/src:work', 'sh'], '--mount', /absolute/],
    [['--mount', '/src:/work:rx', 'sh'], '--mount', /unknown mode 'rx'/],
    [['--mount', ':/work', 'sh'], '--mount', /empty source/],
    [['-v', '/a:/b:ro:x', 'sh'], '-v', /expected SRC:DST/],
    [['--tmpfs', 'scratch', 'sh'], '--tmpfs', /absolute/],
    [['--tmpfs', '/s:size=lots', 'sh'], '--tmpfs', /size/],
    [['--tmpfs', '/s:mode=999', 'sh'], '--tmpfs', /mode/],
    [['--tmpfs', '/s:exec', 'sh'], '--tmpfs', /unknown tmpfs option 'exec'/],
    [['--network', 'bad/name', 'sh'], '--network', /expected a network name/],
    [['--hostname', 'bad_name!', 'sh'], '--hostname', /expected a hostname/],
    [['--hostname', `${'a.'.repeat(32)}a`, 'sh'], '--hostname', /at most 64 characters/],
    [['-e', '=y', 'sh'], '-e', /KEY=VALUE/],
    [['-w', 'relative', 'sh'], '-w', /absolute/],
    [['--user', '', 'sh'], '--user', /^--user: expected NAME\[:GROUP\] or UID\[:GID\]/],
    [['--user', '1000:', 'sh'], '--user', /^--user: expected 'name\[:group\]' or 'uid\[:gid\]'/],
    [['--user', '-1', 'sh'], '--user', /^--user: expected 'name\[:group\]' or 'uid\[:gid\]'/],
    [['--user', '4294967295', 'sh'], '--user', /^--user: expected ids below 4294967295/],
    [['--hostname'], '--hostname', /requires a value/],
    [['--bogus', 'sh'], '--bogus', /unknown flag '--bogus'/],
    [['-x', 'sh'], '-x', /unknown flag '-x'/],
    [['--init=yes', 'sh'], '--init', /takes no value/],
    [['--rootfs=', 'sh'], '--rootfs', /empty/],
  ] as [string[], string, RegExp][])('run %j: error names %s', (args, flag, pattern) => {
    const e = usageError(() => parseRun(args));
    expect(e.flag).toBe(flag);
    expect(e.message.startsWith(flag)).toBe(pattern.source.startsWith('unknown flag') ? false : true);
    expect(e.message).toMatch(pattern);
  });

  test('run without an image or a command', () => {
    expect(usageError(() => parseRun([])).message).toMatch(/no image or command/);
    expect(usageError(() => parseRun(['--init'])).message).toMatch(/no image or command/);
    expect(usageError(() => parseRun(['--init', '--'])).message).toMatch(/no command/);
    expect(usageError(() => parseRun(['--', ''])).message).toMatch(/empty string/);
  });
});

describe('exit statuses', () => {
  test('exitCodeOf: the code, or 128 + the signal number', () => {
    expect(exitCodeOf({ exitCode: 0, signal: null })).toBe(0);
    expect(exitCodeOf({ exitCode: 3, signal: null })).toBe(3);
    expect(exitCodeOf({ exitCode: null, signal: 'SIGKILL' })).toBe(137);
    expect(exitCodeOf({ exitCode: null, signal: 'SIGINT' })).toBe(130);
    expect(exitCodeOf({ exitCode: null, signal: 'SIGTERM' })).toBe(143);
  });

  test('describeFailure: 127 not found, 126 not executable, 125 for the rest', () => {
    const spawnErr = (code: string) => Object.assign(new Error(`spawn prog ${code}`), { code, syscall: 'spawn prog' });
    expect(describeFailure(spawnErr('ENOENT'), 'prog')).toEqual({ code: 127, message: expect.stringContaining('prog: command not found') });
    expect(describeFailure(spawnErr('EACCES'), 'prog')).toEqual({ code: 126, message: expect.stringContaining('prog: cannot execute') });
    expect(describeFailure(new TypeError('hostname: expected a string'), 'prog')).toEqual({
      code: 125,
      message: 'invalid option: hostname: expected a string',
    });
    const setup = new ContainerSetupError('mount /proc', 1);
    expect(describeFailure(setup, 'prog')).toEqual({ code: 125, message: `container setup failed: ${setup.message}` });
    // ENOENT that is not about the program (e.g. a missing rootfs) is a runtime error.
    expect(describeFailure(Object.assign(new Error('x'), { code: 'ENOENT', syscall: 'open' }), 'prog').code).toBe(125);
  });

  test('runCommand: an option the library rejects is 125 with its message, nothing started', async () => {
    let err = '';
    const code = await runCommand(
      { kind: 'run', argv: ['true'], options: { network: 'bad/name' } },
      { stderr: { write: (s: string) => (err += s) } },
    );
    expect(code).toBe(125);
    expect(err).toMatch(/^ts-container: invalid option: network/);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: the CLI as a process, running real containers.



interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(NODE, [CLI_JS, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: 30000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('CLI without containers', () => {
  test('--help, run --help, --version exit 0', () => {
    const h = cli(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('Usage: ts-container');
    const rh = cli(['run', '--help']);
    expect(rh.status).toBe(0);
    expect(rh.stdout).toContain('Usage: ts-container run');
    const v = cli(['--version']);
    expect(v.status).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(v.stdout.trim()).toBe(`ts-container ${pkg.version}`);
  });

  test('bad arguments: 125 and a message naming the flag', () => {
    const r = cli(['run', '--rm', '--network', 'bad/name', '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain("ts-container: --network: expected a network name (letters, digits, '_', '.', '-'), got \"bad/name\"");
    expect(r.stdout).toBe('');
    const u = cli(['run', '--rm', '--frobnicate', 'true']);
    expect(u.status).toBe(125);
    expect(u.stderr).toContain("unknown flag '--frobnicate'");
    expect(cli([]).status).toBe(125);
    expect(cli(['start']).status).toBe(125);
  });
});

describe('ts-container run (real containers)', () => {
  let tmp: string;
  let rootfs: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-e2e-'));
    fs.writeFileSync(path.join(tmp, 'greeting.txt'), 'hello from the host\n');
    rootfs = ensureBusyboxRootfs();
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('exit code 0 and stdout inherited', () => {
    const r = cli(['run', '--rm', '--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.stderr).toBe('err\n');
    expect(r.stdout).toBe('out\n');
    expect(r.status).toBe(0);
  });

  test('exit code forwarded: exit 3 => 3', () => {
    expect(cli(['run', '--rm', '--', 'sh', '-c', 'exit 3']).status).toBe(3);
  });

  test('killed by a signal: SIGKILL => 137, SIGTERM => 143', () => {
    // With --init, sh is not PID 1 (which the kernel shields from signals without a handler,
    // even SIGKILL from inside its namespace), so it can kill itself.
    expect(cli(['run', '--rm', '--init', '--', 'sh', '-c', 'kill -KILL $$']).status).toBe(137);
    expect(cli(['run', '--rm', '--init', '--', 'sh', '-c', 'kill -TERM $$']).status).toBe(143);
  });

  test('hostname, env, cwd, user', () => {
    const r = cli([
      'run', '--rm', '--hostname', 'clibox', '-e', 'FOO=bar baz', '-w', '/tmp', '--user', '1000:1000',
      '--', 'sh', '-c', 'echo "$(hostname)|$FOO|$(pwd)|$(id -u):$(id -g)"',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('clibox|bar baz|/tmp|1000:1000\n');
    expect(r.status).toBe(0);
  });

  test('without --, the first word is an image, as docker reads it', () => {
    const r = cli(['run', '--rm', '--pull', 'never', '--hostname', 'nodash', 'hostname']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/hostname/);
    expect(r.status).toBe(125);
  });

  test('--mount ro and rw, --tmpfs', () => {
    const rw = path.join(tmp, 'rw');
    fs.mkdirSync(rw);
    const r = cli([
      'run', '--rm', '--mount', `${tmp}:/mnt:ro`, '--tmpfs', '/tmp/scratch',
      '--', 'sh', '-c', 'cat /mnt/greeting.txt; touch /mnt/x 2>/dev/null && echo writable || echo read-only; echo s > /tmp/scratch/f && cat /tmp/scratch/f',
    ]);
    expect(r.stdout).toBe('hello from the host\nread-only\ns\n');
    expect(r.status).toBe(0);
    const w = cli(['run', '--rm', '--mount', `${rw}:/mnt`, '--', 'sh', '-c', 'echo written > /mnt/out']);
    expect(w.status).toBe(0);
    expect(fs.readFileSync(path.join(rw, 'out'), 'utf8')).toBe('written\n');
  });

  test('relative --mount source resolves against the caller\'s cwd', () => {
    const r = cli(['run', '--rm', '--mount', '.:/mnt:ro', '--', 'cat', '/mnt/greeting.txt'], { cwd: tmp });
    expect(r.stdout).toBe('hello from the host\n');
    expect(r.status).toBe(0);
  });

  test('--rootfs: a busybox root, network none by default', () => {
    const r = cli(['run', '--rm', '--rootfs', rootfs, '--', 'sh', '-c', 'head -n 1 /etc/passwd; readlink /bin/ls; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "']);
    expect(r.stdout).toBe('root:x:0:0:root:/root:/bin/sh\nbusybox\nlo\n');
    expect(r.status).toBe(0);
  });

  test('--rootfs / is the host-root mode: read-only, and the host\'s root-only files stay closed', () => {
    const written = path.join('/etc', `tsc-cli-written-${path.basename(tmp)}`);
    try {
      const r = cli(['run', '--rm', '--rootfs', '/', '--', 'sh', '-c', `id -u; cat /etc/shadow >/dev/null 2>&1 || echo shadow denied; touch ${written} 2>/dev/null || echo read-only`]);
      expect(r.stdout).toBe('0\nshadow denied\nread-only\n');
      expect(fs.existsSync(written)).toBe(false);
    } finally {
      fs.rmSync(written, { force: true });
    }
  });

  test('program not found => 127, not executable => 126', () => {
    const nf = cli(['run', '--rm', '--', 'no-such-program-xyz']);
    expect(nf.status).toBe(127);
    expect(nf.stderr).toContain('no-such-program-xyz');
    const ne = cli(['run', '--rm', '--mount', `${tmp}:/mnt:ro`, '--', '/mnt/greeting.txt']);
    expect(ne.status).toBe(126);
    expect(ne.stderr).toContain('/mnt/greeting.txt');
  });

  test('setup failure => 125 with its message', () => {
    const r = cli(['run', '--rm', '--rootfs', path.join(tmp, 'does-not-exist'), '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/^ts-container: /);
    expect(r.stderr).toContain('does-not-exist');
  });

  test('the built bin of package.json (when dist/ is built): shebang, --version, exit status', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
    const bin = path.join(ROOT, pkg.bin['ts-container']);
    // The e2e tier's global setup builds dist/ when it is missing or older than the sources.
    expect(fs.existsSync(bin)).toBe(true);
    expect(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    fs.accessSync(bin, fs.constants.X_OK);
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(v.stdout).toBe(`ts-container ${pkg.version}\n`);
    const r = spawnSync(bin, ['run', '--rm', '--hostname', 'built', '--', 'sh', '-c', 'hostname; exit 3'], { encoding: 'utf8', timeout: 30000 });
    expect(r.stdout).toBe('built\n');
    expect(r.status).toBe(3);
  });

  test('SIGTERM to the CLI is forwarded to the container process', async () => {
    const child = spawn(NODE, [CLI_JS, 'run', '--rm', '--init', '--', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`exited early: ${out} ${err}`)));
    });
    child.kill('SIGTERM');
    // 'close', not 'exit': the output may still be in the pipes when the process has exited.
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(out).toBe('ready\ngot TERM\n');
    expect(status).toBe(7);
  });
});
