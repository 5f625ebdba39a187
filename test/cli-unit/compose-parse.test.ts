/**
 * `compose` and `volume` command lines: compose's own flags before the verb, the verb's after
 * it (so -f is the file before `logs` and follow after it), as docker compose reads them.
 */
import { parseCommandLine } from '../../lib/cli/program';
import { usageError } from '../support/usage-error';

const parse = (...args: string[]) => parseCommandLine(args, { cwd: '/home/me/shop', env: {} });

describe('compose', () => {
  test('file and project before the verb; the verb\'s own flags after it', () => {
    expect(parse('--root', '/s', '--data-root', '/d', 'compose', '-f', 'stack.yml', '-p', 'shop', 'up', '-d')).toEqual({
      kind: 'compose', verb: 'up', file: '/home/me/shop/stack.yml', project: 'shop', detach: true, volumes: false, follow: false, format: 'table', stateRoot: '/s', dataRoot: '/d',
    });
    expect(parse('compose', '-f', 'x.yaml', 'logs', '-f')).toMatchObject({ verb: 'logs', file: '/home/me/shop/x.yaml', follow: true });
    expect(parse('compose', 'logs')).toMatchObject({ verb: 'logs', follow: false });
    expect(parse('compose', 'down', '--volumes')).toMatchObject({ verb: 'down', volumes: true });
    expect(parse('compose', 'ps', '--json')).toMatchObject({ verb: 'ps', format: 'json' });
    expect(parse('compose', 'ps', '-q')).toMatchObject({ verb: 'ps', format: 'ids' });
    expect(parse('compose', '--file=/srv/c.yaml', 'ps')).toMatchObject({ file: '/srv/c.yaml' });
  });

  test('bad command lines name what is wrong', () => {
    expect(usageError(() => parse('compose')).message).toBe('compose: expected one of up, down, ps, logs, got nothing');
    expect(usageError(() => parse('compose', 'build')).message).toBe("compose: expected one of up, down, ps, logs, got 'build'");
    expect(usageError(() => parse('compose', 'up', '-v')).message).toBe("compose up: unknown argument '-v' (expected -d, --detach)");
    expect(usageError(() => parse('compose', 'ps', '--json', '-q')).message).toMatch(/do not go together/);
    expect(usageError(() => parse('compose', 'up', 'web')).topic).toBe('compose');
  });
});

describe('volume', () => {
  test('create, ls, inspect, rm', () => {
    expect(parse('--data-root', '/d', 'volume', 'create', 'data')).toEqual({ kind: 'volume', verb: 'create', names: ['data'], format: 'table', dataRoot: '/d' });
    expect(parse('volume', 'create')).toMatchObject({ verb: 'create', names: [] });
    expect(parse('volume', 'ls', '-q')).toMatchObject({ verb: 'ls', format: 'ids' });
    expect(parse('volume', 'ls', '--json')).toMatchObject({ verb: 'ls', format: 'json' });
    expect(parse('volume', 'rm', 'a', 'b')).toMatchObject({ verb: 'rm', names: ['a', 'b'] });
  });

  test('bad command lines name what is wrong', () => {
    expect(usageError(() => parse('volume', 'prune')).message).toBe("volume: expected one of create, ls, inspect, rm, got 'prune'");
    expect(usageError(() => parse('volume', 'rm')).message).toBe('volume rm: expected NAME...');
    expect(usageError(() => parse('volume', 'create', 'a', 'b')).message).toBe('volume create: expected at most one NAME');
    expect(usageError(() => parse('volume', 'rm', '-q', 'a')).message).toBe('volume: --json and -q go with ls only');
  });
});
