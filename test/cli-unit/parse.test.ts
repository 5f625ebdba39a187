/**
 * Parsing of the lifecycle commands (create, start, exec, list, ps, state, logs, kill, stop,
 * pause, resume, delete), the global --root, run's -d/--name/--restart/--rm, and the table
 * formatting of list and ps. Pure: no containers, no addon.
 */
import { parseCommandLine } from '../../lib/cli/program';
import type { ParsedCommandLine } from '../../lib/cli/parsed';
import { helpText } from '../../lib/cli/help';
import { COMMAND_NAMES } from '../../lib/cli/usage-error';
import { signal } from '../../lib/cli/definitions/values';
import { FlagValueError } from '../../lib/cli/definitions/flag';
import {
  formatCommand,
  formatContainerList,
  formatProcessList,
  formatTable,
  relativeTime,
  statusText,
  truncate,
} from '../../lib/cli/commands/format';
import type { ContainerListEntry, ContainerState } from '../../lib/state/types';
import { usageError } from '../support/usage-error';

const MAIN_HELP = helpText('main');

const parse = (args: string[], env: Record<string, string> = {}): ParsedCommandLine =>
  parseCommandLine(args, { cwd: '/home/me', env });

describe('global --root', () => {
  test('--root DIR and --root=DIR, resolved against the cwd, reach every command', () => {
    expect(parse(['--root', '/state', 'list'])).toEqual({ kind: 'list', format: 'table', stateRoot: '/state' });
    expect(parse(['--root=rel', 'state', 'c1'])).toEqual({ kind: 'state', id: 'c1', stateRoot: '/home/me/rel' });
    expect(parse(['--root', '/s', 'run', '-d', '--', 'true'])).toEqual({
      kind: 'run',
      options: { detach: true, stateRoot: '/s' },
      argv: ['true'],
    });
    expect(parse(['--root', '/s', 'run', '--', 'true'])).toEqual({ kind: 'run', options: { stateRoot: '/s' }, argv: ['true'] });
  });

  test('without --root the library decides (TS_CONTAINER_STATE_ROOT, then its default)', () => {
    expect(parse(['list'], { TS_CONTAINER_STATE_ROOT: '/from-env' })).toEqual({ kind: 'list', format: 'table' });
    expect(parse(['run', '--', 'true'])).toEqual({ kind: 'run', options: {}, argv: ['true'] });
  });

  test('errors: no value, empty value, --root after the command', () => {
    expect(usageError(() => parse(['--root'])).message).toMatch(/--root: requires a directory/);
    expect(usageError(() => parse(['--root='])).message).toMatch(/empty/);
    const after = usageError(() => parse(['list', '--root', '/x']));
    expect(after.message).toMatch(/global flag: put it before the command/);
    expect(after.topic).toBe('list');
  });
});

describe('help', () => {
  test.each(COMMAND_NAMES)('%s --help, -h and help %s', (name) => {
    expect(parse([name, '--help'])).toEqual({ kind: 'help', topic: name });
    expect(parse([name, '-h'])).toEqual({ kind: 'help', topic: name });
    expect(parse(['help', name])).toEqual({ kind: 'help', topic: name });
    expect(helpText(name)).toMatch(new RegExp(`^Usage: ts-container ${name} `));
    // Every command is in the general help.
    expect(MAIN_HELP).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  test('aliases and unknown topics', () => {
    expect(parse(['ls', '--help'])).toEqual({ kind: 'help', topic: 'list' });
    expect(parse(['help', 'ls'])).toEqual({ kind: 'help', topic: 'list' });
    expect(parse(['help', 'nonsense'])).toEqual({ kind: 'help', topic: 'main' });
    expect(helpText('main')).toBe(MAIN_HELP);
  });

  test('--help after exec\'s id belongs to the command run in the container', () => {
    expect(parse(['exec', 'c1', 'ls', '--help'])).toMatchObject({ kind: 'exec', argv: ['ls', '--help'] });
  });
});

describe('run: -d, --name, --restart, --rm', () => {
  test('detached with a name and a restart policy', () => {
    expect(parse(['run', '-d', '--name', 'web', '--restart', 'on-failure:3', '--', 'sleep', '9'])).toEqual({
      kind: 'run',
      options: { detach: true, id: 'web', restart: 'on-failure:3' },
      argv: ['sleep', '9'],
    });
    expect(parse(['run', '--detach', '--restart=always', 'true'])).toMatchObject({ options: { detach: true, restart: 'always' } });
    expect(parse(['run', '--name=x.y_z-1', '--', 'true'])).toEqual({ kind: 'run', options: { id: 'x.y_z-1' }, argv: ['true'] });
  });

  test('--restart no needs nothing; --rm is carried to the run, in the foreground and with -d', () => {
    expect(parse(['run', '--restart', 'no', '--', 'true'])).toEqual({ kind: 'run', options: { restart: 'no' }, argv: ['true'] });
    expect(parse(['run', '--rm', '--', 'true'])).toEqual({ kind: 'run', options: {}, argv: ['true'], rm: true });
    expect(parse(['run', '--', 'true'])).not.toHaveProperty('rm');
    expect(parse(['run', '-d', '--rm', '--', 'true'])).toEqual({ kind: 'run', options: { detach: true }, argv: ['true'], rm: true });
    expect(parse(['run', '-d', '--rm', '--restart', 'no', 'true'])).toMatchObject({ options: { detach: true, restart: 'no' }, rm: true });
  });

  test.each([
    [['run', '--restart', 'always', 'true'], '--restart', /^--restart: needs detach/],
    [['run', '--restart', 'sometimes', '-d', 'true'], '--restart', /^--restart: expected "no", "always", "unless-stopped", "on-failure" or "on-failure:N"/],
    [['run', '-d', '--restart', 'on-failure:x', 'true'], '--restart', /got "on-failure:x"/],
    [['run', '-d', '--rm', '--restart', 'always', 'true'], '--rm', /conflicts with --restart/],
    [['run', '-d', '--usage', 'true'], '--usage', /foreground/],
    [['run', '--name', 'a/b', 'true'], '--name', /^--name: expected 1-64 letters/],
    [['run', '--name', '-x', 'true'], '--name', /^--name: expected 1-64 letters/],
    [['run', '--name', 'a'.repeat(65), 'true'], '--name', /^--name: expected 1-64 letters/],
    [['run', '-dx', 'true'], '-x', /^run: unknown flag '-x'/],
  ] as [string[], string, RegExp][])('%j: error names %s', (args, flag, pattern) => {
    const e = usageError(() => parse(args));
    expect(e.flag).toBe(flag);
    expect(e.message).toMatch(pattern);
  });
});

describe('create', () => {
  test('takes run\'s flags and is always detached', () => {
    expect(parse(['create', '--name', 'c1', '--hostname', 'box', '-e', 'A=1', '--', 'sh', '-c', 'echo hi'])).toEqual({
      kind: 'create',
      options: { detach: true, id: 'c1', hostname: 'box', env: { A: '1' } },
      argv: ['sh', '-c', 'echo hi'],
    });
    expect(parse(['create', '--restart', 'unless-stopped', 'sleep', '1'])).toMatchObject({
      kind: 'create',
      options: { detach: true, restart: 'unless-stopped' },
    });
  });

  test('errors say create', () => {
    const none = usageError(() => parse(['create', '--init']));
    expect(none.message).toMatch(/^create: no image or command given/);
    expect(none.topic).toBe('create');
    expect(usageError(() => parse(['create', '-d', 'true'])).message).toMatch(/not a flag of create/);
    expect(usageError(() => parse(['create', '--rm', 'true'])).message).toMatch(/--rm: not supported with create/);
  });
});

describe('commands on one container', () => {
  test.each(['start', 'state', 'pause', 'resume'] as const)('%s ID', (kind) => {
    expect(parse([kind, 'c1'])).toEqual({ kind, id: 'c1' });
    expect(usageError(() => parse([kind])).message).toBe(`${kind}: no container id given (usage: ts-container ${kind} ID)`);
    expect(usageError(() => parse([kind, 'a', 'b'])).message).toMatch(new RegExp(`^${kind}: expected one container id, got 2`));
    expect(usageError(() => parse([kind, '../etc'])).message).toMatch(/'..\/etc' is not a container id/);
    const unknown = usageError(() => parse([kind, '--json', 'c1']));
    expect(unknown.message).toBe(`${kind}: unknown flag '--json'`);
    expect(unknown.topic).toBe(kind);
  });

  test('ps ID [--json]; logs [-f] ID (flags before or after the id)', () => {
    expect(parse(['top', 'c1'])).toEqual({ kind: 'top', id: 'c1', json: false });
    expect(parse(['top', 'c1', '--json'])).toEqual({ kind: 'top', id: 'c1', json: true });
    expect(parse(['logs', 'c1'])).toEqual({ kind: 'logs', id: 'c1', follow: false, raw: false });
    expect(parse(['logs', '-f', 'c1'])).toEqual({ kind: 'logs', id: 'c1', follow: true, raw: false });
    expect(parse(['logs', 'c1', '--follow'])).toEqual({ kind: 'logs', id: 'c1', follow: true, raw: false });
    expect(parse(['logs', '--raw', 'c1', '-f'])).toEqual({ kind: 'logs', id: 'c1', follow: true, raw: true });
    expect(parse(['logs', '--', 'c1'])).toEqual({ kind: 'logs', id: 'c1', follow: false, raw: false });
    expect(usageError(() => parse(['logs', '--follow=yes', 'c1'])).message).toBe("--follow: takes no value, got '--follow=yes'");
  });
});

describe('list', () => {
  test('table, --json, -q, and the ls alias', () => {
    expect(parse(['list'])).toEqual({ kind: 'list', format: 'table' });
    expect(parse(['ls'])).toEqual({ kind: 'list', format: 'table' });
    expect(parse(['list', '--json'])).toEqual({ kind: 'list', format: 'json' });
    expect(parse(['ls', '-q'])).toEqual({ kind: 'list', format: 'ids' });
    expect(parse(['ls', '--quiet'])).toEqual({ kind: 'list', format: 'ids' });
  });

  test('errors', () => {
    expect(usageError(() => parse(['list', 'c1'])).message).toBe("list: takes no arguments, got 'c1'");
    expect(usageError(() => parse(['list', '-q', '--json'])).message).toMatch(/do not go together/);
    expect(usageError(() => parse(['list', '-a'])).message).toBe("list: unknown flag '-a'");
  });
});

describe('exec', () => {
  test('flags before the id, the command after it (its flags are its own)', () => {
    expect(parse(['exec', 'c1', 'ls', '-l'])).toEqual({ kind: 'exec', id: 'c1', argv: ['ls', '-l'], interactive: false, tty: false });
    expect(
      parse(['exec', '-e', 'A=1', '-eB=2', '-e', 'HOME_X', '-u', '1000:100', '-w', '/tmp', '-i', 'c1', 'sh', '-e', 'x'], {
        HOME_X: '/home/x',
      }),
    ).toEqual({
      kind: 'exec',
      id: 'c1',
      argv: ['sh', '-e', 'x'],
      env: { A: '1', B: '2', HOME_X: '/home/x' },
      user: '1000:100',
      cwd: '/tmp',
      interactive: true,
      tty: false,
    });
    expect(parse(['exec', '--', 'c1', '--weird'])).toMatchObject({ id: 'c1', argv: ['--weird'] });
    expect(parse(['exec', '-e', 'UNSET', 'c1', 'env'])).toEqual({ kind: 'exec', id: 'c1', argv: ['env'], interactive: false, tty: false });
  });

  test('-it, -ti, -i -t, --interactive --tty all mean the same', () => {
    for (const flags of [['-it'], ['-ti'], ['-i', '-t'], ['--interactive', '--tty']]) {
      expect(parse(['exec', ...flags, 'c1', 'sh'])).toMatchObject({ interactive: true, tty: true });
    }
    expect(parse(['exec', '-t', 'c1', 'sh'])).toMatchObject({ interactive: false, tty: true });
  });

  test('a combined short flag may end with one that takes a value: -iu1000', () => {
    expect(parse(['exec', '-iu1000', 'c1', 'id'])).toMatchObject({ interactive: true, user: '1000' });
  });

  test.each([
    [['exec'], undefined, /^exec: no container id given/],
    [['exec', 'c1'], undefined, /^exec: no command given after the container id 'c1'/],
    [['exec', 'c1', ''], undefined, /empty string/],
    [['exec', '-e', '=y', 'c1', 'sh'], '-e', /^-e: expected KEY=VALUE/],
    [['exec', '-u', '1:4294967295', 'c1', 'sh'], '-u', /^-u: expected ids below 4294967295/],
    [['exec', '-u', 'a:b:c', 'c1', 'sh'], '-u', /^-u: expected 'name\[:group\]' or 'uid\[:gid\]'/],
    [['exec', '-u', '', 'c1', 'sh'], '-u', /^-u: expected NAME\[:GROUP\] or UID\[:GID\], got an empty string/],
    [['exec', '-w', 'tmp', 'c1', 'sh'], '-w', /^-w: expected an absolute path/],
    [['exec', '-x', 'c1', 'sh'], '-x', /^exec: unknown flag '-x'/],
    [['exec', '-ix', 'c1', 'sh'], '-x', /^exec: unknown flag '-x'/],
    [['exec', '-e'], '-e', /^-e: requires a value/],
    [['exec', 'bad/id', 'sh'], undefined, /'bad\/id' is not a container id/],
  ] as [string[], string | undefined, RegExp][])('%j', (args, flag, pattern) => {
    const e = usageError(() => parse(args));
    expect(e.flag).toBe(flag);
    expect(e.topic).toBe('exec');
    expect(e.message).toMatch(pattern);
  });
});

describe('kill', () => {
  test('default SIGKILL (as docker and the library); names with or without SIG, any case; numbers; -s as docker', () => {
    expect(parse(['kill', 'c1'])).toEqual({ kind: 'kill', id: 'c1', signal: 'SIGKILL' });
    expect(parse(['kill', 'c1', 'KILL'])).toEqual({ kind: 'kill', id: 'c1', signal: 'SIGKILL' });
    expect(parse(['kill', 'c1', 'SIGHUP'])).toEqual({ kind: 'kill', id: 'c1', signal: 'SIGHUP' });
    expect(parse(['kill', 'c1', 'usr1'])).toEqual({ kind: 'kill', id: 'c1', signal: 'SIGUSR1' });
    expect(parse(['kill', 'c1', '9'])).toEqual({ kind: 'kill', id: 'c1', signal: 9 });
    expect(parse(['kill', 'c1', '34'])).toEqual({ kind: 'kill', id: 'c1', signal: 34 });
    expect(parse(['kill', '-s', 'INT', 'c1'])).toEqual({ kind: 'kill', id: 'c1', signal: 'SIGINT' });
    expect(parse(['kill', '--signal=2', 'c1'])).toEqual({ kind: 'kill', id: 'c1', signal: 2 });
  });

  test.each([
    [['kill'], /^kill: no container id given/],
    [['kill', 'c1', 'NOPE'], /^kill: unknown signal 'NOPE'/],
    [['kill', 'c1', '0'], /unknown signal '0'/],
    [['kill', 'c1', '65'], /unknown signal '65'/],
    [['kill', 'c1', '-9'], /unknown signal '-9'/],
    [['kill', 'c1', 'TERM', 'x'], /^kill: too many arguments/],
    [['kill', '-s', 'KILL', 'c1', 'TERM'], /two signals given/],
    [['kill', '-s', 'BOGUS', 'c1'], /^-s: unknown signal 'BOGUS'/],
  ] as [string[], RegExp][])('%j', (args, pattern) => {
    expect(usageError(() => parse(args)).message).toMatch(pattern);
  });
});

describe('stop and delete: one or more ids', () => {
  test('stop [-t SECONDS] ID...', () => {
    expect(parse(['stop', 'a', 'b'])).toEqual({ kind: 'stop', ids: ['a', 'b'] });
    expect(parse(['stop', '-t', '3', 'a'])).toEqual({ kind: 'stop', ids: ['a'], timeout: 3 });
    expect(parse(['stop', 'a', '--time=0'])).toEqual({ kind: 'stop', ids: ['a'], timeout: 0 });
    expect(parse(['stop', '-t5', 'a'])).toEqual({ kind: 'stop', ids: ['a'], timeout: 5 });
    expect(usageError(() => parse(['stop'])).message).toMatch(/^stop: no container id given/);
    expect(usageError(() => parse(['stop', '-t', '1.5', 'a'])).message).toBe("-t: expected a whole number of seconds, got '1.5'");
    expect(usageError(() => parse(['stop', '-t'])).message).toBe('-t: requires a value');
  });

  test('delete [-f] ID...', () => {
    expect(parse(['delete', 'a'])).toEqual({ kind: 'delete', ids: ['a'], force: false });
    expect(parse(['delete', '-f', 'a', 'b'])).toEqual({ kind: 'delete', ids: ['a', 'b'], force: true });
    expect(parse(['delete', 'a', '--force'])).toEqual({ kind: 'delete', ids: ['a'], force: true });
    expect(usageError(() => parse(['delete'])).message).toMatch(/^delete: no container id given/);
    expect(usageError(() => parse(['delete', 'a', 'b c'])).message).toMatch(/'b c' is not a container id/);
  });
});

describe('value parsers', () => {
  test('signal keeps names as names and numbers as numbers', () => {
    expect(signal('term')).toBe('SIGTERM');
    expect(signal('SIGSTOP')).toBe('SIGSTOP');
    expect(signal('15')).toBe(15);
    expect(() => signal('SIG')).toThrow(FlagValueError);
    expect(() => signal('')).toThrow(FlagValueError);
  });

  test('--restart: the library\'s policies, passed as given', () => {
    for (const p of ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:0', 'on-failure:10']) {
      expect(parse(['run', '-d', '--restart', p, 'true'])).toMatchObject({ options: { restart: p } });
    }
    for (const p of ['', 'On-Failure', 'on-failure:', 'on-failure:-1', 'never']) {
      expect(usageError(() => parse(['run', '-d', '--restart', p, 'true'])).flag).toBe('--restart');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Output formatting of list and ps.

const state = (over: Partial<ContainerState>): ContainerState => ({
  ociVersion: '1.2.0',
  id: 'c1',
  status: 'running',
  pid: 4242,
  bundle: '/run/ts-container/c1',
  annotations: {},
  created: '2025-01-01T00:00:00.000Z',
  restartCount: 0,
  detached: true,
  restart: 'no',
  command: ['sleep', '1000'],
  rootfs: null,
  ...over,
});

describe('formatting', () => {
  const now = new Date('2025-01-01T00:00:00.000Z');
  const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();

  test('relativeTime', () => {
    expect(relativeTime(ago(0), now)).toBe('just now');
    expect(relativeTime(ago(-5), now)).toBe('just now');
    expect(relativeTime(ago(1), now)).toBe('1 second ago');
    expect(relativeTime(ago(3), now)).toBe('3 seconds ago');
    expect(relativeTime(ago(60), now)).toBe('1 minute ago');
    expect(relativeTime(ago(2 * 3600 + 5), now)).toBe('2 hours ago');
    expect(relativeTime(ago(3 * 86400), now)).toBe('3 days ago');
    expect(relativeTime(ago(400 * 86400), now)).toBe('1 year ago');
    expect(relativeTime('not a date', now)).toBe('-');
    expect(relativeTime(undefined, now)).toBe('-');
  });

  test('statusText', () => {
    expect(statusText(state({}))).toBe('running');
    expect(statusText(state({ status: 'stopped', pid: 0, exitCode: 1, signal: null }))).toBe('stopped (exit 1)');
    expect(statusText(state({ status: 'stopped', pid: 0, exitCode: 0 }))).toBe('stopped (exit 0)');
    expect(statusText(state({ status: 'stopped', pid: 0, exitCode: null, signal: 'SIGKILL' }))).toBe('stopped (SIGKILL)');
    expect(statusText(state({ status: 'created' }))).toBe('created');
    expect(statusText(state({ restartCount: 2 }))).toBe('running, restarted 2 times');
    expect(statusText({ id: 'x', bundle: '/b', status: 'unknown', error: 'state.json: unexpected end of JSON input' })).toBe(
      'unknown: state.json: unexpected end of JSON input',
    );
  });

  test('truncate and formatCommand', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
    expect(formatCommand(['sh', '-c', 'echo hi; exit 3'])).toBe("sh -c 'echo hi; exit 3'");
    expect(formatCommand(['echo', "it's"])).toBe("echo 'it'\\''s'");
    expect(formatCommand(['ls', '-l', '/tmp'])).toBe('ls -l /tmp');
  });

  test('formatTable pads every column but the last', () => {
    expect(formatTable(['A', 'BB'], [['long', 'x'], ['s', '']])).toBe('A      BB\nlong   x\ns\n');
  });

  test('formatContainerList: the columns of list', () => {
    const entries: ContainerListEntry[] = [
      state({ id: 'web', created: ago(3) }),
      state({
        id: 'job',
        status: 'stopped',
        pid: 0,
        exitCode: 1,
        rootfs: '/srv/rootfs',
        command: ['sh', '-c', 'echo a very long command line that goes on'],
        created: ago(7200),
      }),
      { id: 'broken', bundle: '/run/ts-container/broken', status: 'unknown', error: 'bad state' },
    ];
    expect(formatContainerList(entries, now).split('\n')).toEqual([
      'ID       ROOTFS        COMMAND                          CREATED         STATUS               PID',
      'web      host /        sleep 1000                       3 seconds ago   running              4242',
      "job      /srv/rootfs   sh -c 'echo a very long comma…   2 hours ago     stopped (exit 1)     -",
      'broken   -             -                                -               unknown: bad state   -',
      '',
    ]);
  });

  test('formatProcessList', () => {
    expect(formatProcessList([{ pid: 10, command: 'sleep 1000' }, { pid: 12345, command: 'sh -c x' }])).toBe(
      'PID     COMMAND\n10      sleep 1000\n12345   sh -c x\n',
    );
  });
});

describe('run IMAGE, as docker reads it', () => {
  test('IMAGE alone takes the image\'s command; IMAGE COMMAND ARG... its own', () => {
    expect(parse(['run', 'alpine:3.20'])).toEqual({ kind: 'run', options: { image: 'alpine:3.20' } });
    expect(parse(['run', '--rm', '-e', 'A=1', 'alpine', 'sh', '-c', 'echo $A'])).toEqual({
      kind: 'run',
      options: { image: 'alpine', env: { A: '1' } },
      argv: ['sh', '-c', 'echo $A'],
      rm: true,
    });
    // A `--` after the image is only a separator.
    expect(parse(['run', 'alpine', '--', 'ls', '-l'])).toMatchObject({ options: { image: 'alpine' }, argv: ['ls', '-l'] });
  });

  test('`-- COMMAND` and --rootfs DIR keep running without an image', () => {
    expect(parse(['run', '--', 'alpine', 'x'])).toEqual({ kind: 'run', options: {}, argv: ['alpine', 'x'] });
    expect(parse(['run', '--rootfs', '/r', 'sh'])).toEqual({ kind: 'run', options: { rootfs: '/r' }, argv: ['sh'] });
  });

  test('--pull, --rootfs-overlay and the global --data-root', () => {
    expect(parse(['--data-root', 'd', 'run', '--pull=never', 'alpine'])).toEqual({
      kind: 'run',
      options: { image: 'alpine', dataRoot: '/home/me/d' },
      pull: 'never',
    });
    expect(parse(['run', '--rootfs', '/r', '--rootfs-overlay=false', 'sh'])).toMatchObject({ options: { rootfs: '/r', rootfsOverlay: false } });
    expect(usageError(() => parse(['run', '--pull', 'sometimes', 'alpine'])).flag).toBe('--pull');
    expect(usageError(() => parse(['run', '--pull', 'always', '--', 'true'])).message).toMatch(/^--pull: needs an image/);
    expect(usageError(() => parse(['run', '--rootfs-overlay', 'maybe', 'alpine'])).message).toBe("--rootfs-overlay: expected true or false, got 'maybe'");
  });

  test('an image together with --rootfs is the library\'s TypeError, under the flags', () => {
    // With --rootfs the words are the command: there is no image to conflict.
    expect(parse(['run', '--rootfs', '/r', 'alpine', 'true'])).toMatchObject({ argv: ['alpine', 'true'] });
    expect(usageError(() => parse(['run'])).message).toMatch(/^run: no image or command given/);
  });
});

describe('image commands', () => {
  test('each builds its call, with the global --data-root', () => {
    expect(parse(['--data-root', '/d', 'pull', '-q', 'alpine:3.20'])).toEqual({ kind: 'pull', reference: 'alpine:3.20', quiet: true, dataRoot: '/d' });
    expect(parse(['images', '--json'])).toEqual({ kind: 'images', format: 'json' });
    expect(parse(['rmi', '-f', 'a', 'b'])).toEqual({ kind: 'rmi', references: ['a', 'b'], force: true });
    expect(parse(['tag', 'a', 'b:1'])).toEqual({ kind: 'tag', source: 'a', target: 'b:1' });
    expect(parse(['save', '-o', 'out.tar', '--format', 'oci-archive', 'a'])).toEqual({
      kind: 'save',
      reference: 'a',
      output: '/home/me/out.tar',
      format: 'oci-archive',
    });
    expect(parse(['load', '-i', 'in.tar'])).toEqual({ kind: 'load', input: '/home/me/in.tar', quiet: false });
    expect(parse(['push', 'a', '127.0.0.1:5000/a:1'])).toEqual({ kind: 'push', source: 'a', target: '127.0.0.1:5000/a:1', quiet: false });
    expect(parse(['--root', '/s', 'inspect', '--type', 'image', 'a'])).toEqual({ kind: 'inspect', names: ['a'], type: 'image', stateRoot: '/s' });
  });

  test('missing or extra words name the usage', () => {
    expect(usageError(() => parse(['pull'])).message).toMatch(/^pull: expected NAME, got nothing/);
    expect(usageError(() => parse(['tag', 'a'])).message).toMatch(/^tag: expected SOURCE TARGET/);
    expect(usageError(() => parse(['save', 'a'])).flag).toBe('-o');
    expect(usageError(() => parse(['save', '-o', '/x', '--format', 'zip', 'a'])).flag).toBe('--format');
    expect(usageError(() => parse(['load'])).flag).toBe('-i');
    expect(usageError(() => parse(['images', '-q', '--json'])).message).toMatch(/pick one/);
    expect(usageError(() => parse(['inspect', '--type', 'volume', 'a'])).flag).toBe('--type');
    expect(usageError(() => parse(['--data-root', 'a\0b', 'images'])).flag).toBe('--data-root');
  });
});
