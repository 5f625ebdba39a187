/** `commit --change`: docker's instructions become the library's `changes`; others are usage errors. */
import { parseChangeInstructions } from '../../lib/cli/definitions/commit-command';
import { UsageError } from '../../lib/cli/usage-error';

test('each instruction sets its field; shell form runs under /bin/sh -c', () => {
  expect(
    parseChangeInstructions([
      'CMD ["cat", "/x"]',
      'ENTRYPOINT tini --',
      'ENV A=1 B="two words"',
      'WORKDIR /app',
      'USER 1000:1000',
      'EXPOSE 80 53/udp',
      'LABEL a=b',
    ]),
  ).toEqual({
    Cmd: ['cat', '/x'],
    Entrypoint: ['/bin/sh', '-c', 'tini --'],
    Env: ['A=1', 'B=two words'],
    WorkingDir: '/app',
    User: '1000:1000',
    ExposedPorts: ['80', '53/udp'],
    Labels: { a: 'b' },
  });
});

test('an unknown instruction, a bad JSON form or a bare ENV is a usage error', () => {
  expect(() => parseChangeInstructions(['RUN make'])).toThrow(UsageError);
  expect(() => parseChangeInstructions(['CMD ["a", 1]'])).toThrow(/JSON array/);
  expect(() => parseChangeInstructions(['ENV novalue'])).toThrow(/KEY=VALUE/);
  expect(() => parseChangeInstructions(['CMD'])).toThrow(UsageError);
});
