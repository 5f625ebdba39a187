/** Parsing of `network connect|disconnect` and `port`: what the command gets, and the usage errors. */
import { parseCommandLine } from '../../lib/cli/program';
import { UsageError } from '../../lib/cli/usage-error';

const parse = (...args: string[]) => parseCommandLine(args, { cwd: '/home/me', env: {} });

test('network connect takes --alias (repeatable), NETWORK and ID; disconnect NETWORK and ID', () => {
  expect(parse('network', 'connect', '--alias', 'db', '--alias', 'pg', 'ci', 'c1')).toMatchObject({ kind: 'network', verb: 'connect', names: ['ci', 'c1'], aliases: ['db', 'pg'] });
  expect(parse('--root', '/r', 'network', 'disconnect', 'ci', 'c1')).toMatchObject({ kind: 'network', verb: 'disconnect', names: ['ci', 'c1'], aliases: [], stateRoot: '/r' });
  expect(() => parse('network', 'connect', 'ci')).toThrow(new UsageError('network connect: expected NETWORK ID'));
  expect(() => parse('network', 'disconnect', '--alias', 'x', 'ci', 'c1')).toThrow('network: --alias goes with connect only');
});

test('port takes ID and an optional PRIVATE_PORT[/PROTO], tcp by default', () => {
  expect(parse('port', 'c1')).toEqual({ kind: 'port', id: 'c1' });
  expect(parse('port', 'c1', '80')).toEqual({ kind: 'port', id: 'c1', filter: { port: 80, protocol: 'tcp' } });
  expect(parse('port', 'c1', '53/udp')).toEqual({ kind: 'port', id: 'c1', filter: { port: 53, protocol: 'udp' } });
  expect(() => parse('port', 'c1', '70000')).toThrow("port: expected PRIVATE_PORT[/tcp|/udp], got '70000'");
  expect(() => parse('port')).toThrow('port: expected ID [PRIVATE_PORT[/PROTO]]');
  expect(() => parse('port', '../x')).toThrow("port: '../x' is not a container id");
});
