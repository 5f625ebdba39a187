/** Docker durations and times as the CLI's flags take them (lib/cli/definitions/values.ts). */
import { duration, sinceTime, tailLines } from '../../lib/cli/definitions/values';
import { copyEndpoint } from '../../lib/cli/definitions/cp-command';

test('durations are Go/docker durations, in milliseconds', () => {
  expect(duration('30s')).toBe(30_000);
  expect(duration('1m30s')).toBe(90_000);
  expect(duration('1.5h')).toBe(5_400_000);
  expect(duration('250ms')).toBe(250);
  expect(duration('2h45m10s')).toBe(9_910_000);
  expect(duration('0')).toBe(0);
  expect(duration('1500us')).toBe(1.5);
  for (const bad of ['', '10', 's', '1d', '-5s', '1m 30s', 'abc', '1.s.']) expect(() => duration(bad)).toThrow(/expected a duration like 30s/);
});

test('--since: a duration before now, an RFC 3339 time or Unix seconds', () => {
  expect(sinceTime('10m')).toEqual({ agoMs: 600_000 });
  expect(sinceTime('1700000000')).toEqual({ atMs: 1_700_000_000_000 });
  expect(sinceTime('1700000000.25')).toEqual({ atMs: 1_700_000_000_250 });
  expect(sinceTime('2024-05-01T10:00:00Z')).toEqual({ atMs: Date.parse('2024-05-01T10:00:00Z') });
  expect(sinceTime('2024-05-01T10:00:00+02:00')).toEqual({ atMs: Date.parse('2024-05-01T08:00:00Z') });
  for (const bad of ['yesterday', '2024-13-45T99:00:00Z', '', '-1']) expect(() => sinceTime(bad)).toThrow(/expected a duration before now/);
});

test('--tail: a number of lines or "all"', () => {
  expect(tailLines('5')).toBe(5);
  expect(tailLines('0')).toBe(0);
  expect(tailLines('all')).toBeUndefined();
  expect(() => tailLines('-1')).toThrow(/number of lines or "all"/);
});

test('cp endpoints: ID:PATH, a host path (also one with a colon after / or .), or "-"', () => {
  expect(copyEndpoint('web:/etc/hosts')).toEqual({ kind: 'container', id: 'web', path: '/etc/hosts' });
  expect(copyEndpoint('-')).toEqual({ kind: 'stdio' });
  expect(copyEndpoint('./a:b')).toEqual({ kind: 'host', path: './a:b' });
  expect(copyEndpoint('/tmp/a:b')).toEqual({ kind: 'host', path: '/tmp/a:b' });
  expect(copyEndpoint('dir/a:b')).toEqual({ kind: 'host', path: 'dir/a:b' });
  expect(copyEndpoint('site')).toEqual({ kind: 'host', path: 'site' });
  expect(() => copyEndpoint('web:')).toThrow(/no path in the container/);
});
