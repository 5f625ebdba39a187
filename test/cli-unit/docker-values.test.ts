/**
 * The converters of run's docker flags (lib/cli/definitions/values.ts): --mount's key=value
 * form (bind, tmpfs, and volume as the library's { type: 'volume', source, destination }),
 * --env-file's lines, --ulimit's NAME=SOFT[:HARD]; and what parsing gives for --entrypoint.
 * Pure: no containers.
 */
import * as path from 'node:path';
import { envFile, mountSpec, ulimit } from '../../lib/cli/definitions/values';
import { FlagValueError } from '../../lib/cli/definitions/flag';
import { parseCommandLine } from '../../lib/cli/program';

const ctx = { cwd: '/home/me', env: { FROM_HOST: 'copied' } };

describe('--mount type=...', () => {
  test('bind, tmpfs and volume, with docker\'s key spellings', () => {
    expect(mountSpec('type=bind,src=data,dst=/data,readonly', ctx)).toEqual({ type: 'bind', source: '/home/me/data', target: '/data', readonly: true });
    expect(mountSpec('type=bind,source=/srv,target=/srv,ro=false', ctx)).toEqual({ type: 'bind', source: '/srv', target: '/srv' });
    expect(mountSpec('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1777', ctx)).toEqual({ type: 'tmpfs', target: '/t', size: '64m', mode: '1777' });
    expect(mountSpec('type=volume,src=pgdata,dst=/var/lib/postgresql/data', ctx)).toEqual({ type: 'volume', source: 'pgdata', destination: '/var/lib/postgresql/data' });
    // docker's default type is volume.
    expect(mountSpec('src=cache,dst=/cache,readonly', ctx)).toEqual({ type: 'volume', source: 'cache', destination: '/cache', readonly: true });
    // The short form of -v.
    expect(mountSpec('./x:/x:ro', ctx)).toEqual({ type: 'bind', source: '/home/me/x', target: '/x', readonly: true });
  });

  test.each([
    ['type=bind,dst=/d', /type=bind needs src=/],
    ['type=bind,src=/s', /expected a dst=/],
    ['type=tmpfs,src=/s,dst=/d', /type=tmpfs takes no src=/],
    ['type=bind,src=/s,dst=/d,tmpfs-size=1m', /tmpfs-size= is an option of type=tmpfs/],
    ['type=bind,src=/s,dst=/d,propagation=shared', /unknown mount option 'propagation'/],
    ['type=bind,src=/s,dst=/d,readonly=maybe', /readonly: expected true or false/],
    ['type=overlay,dst=/d', /unknown mount type 'overlay'/],
  ])('%s is refused', (spec, message) => {
    expect(() => mountSpec(spec, ctx)).toThrow(FlagValueError);
    expect(() => mountSpec(spec, ctx)).toThrow(message);
  });
});

test('--env-file: KEY=VALUE lines as written, KEY alone copied, comments and blanks skipped', () => {
  expect(envFile(path.join(__dirname, 'fixtures', 'app.env'), ctx)).toEqual({ APP_MODE: 'test', GREETING: 'hello world' });
  expect(() => envFile('no-such.env', ctx)).toThrow("cannot read 'no-such.env': ENOENT");
  expect(() => envFile('', ctx)).toThrow('expected a file');
});

test('--ulimit NAME=SOFT[:HARD], -1 for unlimited', () => {
  expect(ulimit('nofile=1024:4096')).toEqual({ nofile: { soft: 1024, hard: 4096 } });
  expect(ulimit('core=-1')).toEqual({ core: { soft: 'unlimited', hard: 'unlimited' } });
  expect(() => ulimit('nofile')).toThrow(FlagValueError);
  expect(() => ulimit('nofile=lots')).toThrow(/expected NAME=SOFT\[:HARD\]/);
});

test('--entrypoint: the program, with the words after the image or -- as its arguments', () => {
  const parse = (args: string[]): unknown => parseCommandLine(args, { cwd: '/', env: {} });
  expect(parse(['run', '--entrypoint', 'sh', 'alpine', '-c', 'echo hi'])).toMatchObject({ options: { image: 'alpine' }, argv: ['sh', '-c', 'echo hi'] });
  expect(parse(['run', '--entrypoint', '/bin/true', 'alpine'])).toMatchObject({ argv: ['/bin/true'] });
  expect(parse(['run', '--entrypoint', 'echo', '--', 'a', 'b'])).toMatchObject({ argv: ['echo', 'a', 'b'] });
});
