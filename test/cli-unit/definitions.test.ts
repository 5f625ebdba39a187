/**
 * The declarations the CLI is made from (lib/cli/definitions/): every flag has help and shows
 * in its command's help, every flag lands on an option the library has (its check accepts the
 * value and it is where the declaration says), every flag with a value takes it attached as
 * well as apart, and a value the library refuses is reported under the flag's spelling.
 * Pure: no containers, no addon.
 */
import * as path from 'node:path';
import { Container } from '../../lib/container/container';
import { COMMANDS, GLOBAL_FLAGS, type CommandDef } from '../../lib/cli/definitions/commands';
import { flagName, spellings, type FlagDef } from '../../lib/cli/definitions/flag';
import { splitTarget } from '../../lib/cli/definitions/applied-flags';
import { flagMessage } from '../../lib/cli/library-errors';
import { helpText } from '../../lib/cli/help';
import { parseCommandLine } from '../../lib/cli/program';
import type { ParsedCommandLine } from '../../lib/cli/parsed';
import { COMMAND_NAMES } from '../../lib/cli/usage-error';
import { usageError } from '../support/usage-error';

/**
 * A value each flag takes, one the library refuses (when there is one the converter lets
 * through), and flags it needs beside it. A flag declared without an entry here fails the test.
 */
const EXAMPLES: Record<string, { good: string; bad?: string; with?: string[] }> = {
  '--name': { good: 'c1', bad: 'a/b' },
  '--restart': { good: 'on-failure:3', bad: 'sometimes', with: ['-d'] },
  '--log-opt': { good: 'max-size=1m,max-file=2', bad: 'max-size=1k', with: ['-d'] },
  '--rootfs': { good: '/srv/rootfs' },
  '--volume': { good: '/src:/dst:ro', bad: '/src:dst' },
  '--mount': { good: 'type=bind,src=/src,dst=/dst,readonly', bad: 'type=tmpfs,dst=relative' },
  '--env-file': { good: path.join(__dirname, 'fixtures', 'app.env') },
  '--entrypoint': { good: 'sh' },
  '--cap-add': { good: 'NET_ADMIN', bad: 'NOT_A_CAP' },
  '--cap-drop': { good: 'net_raw', bad: 'NOT_A_CAP' },
  '--ulimit': { good: 'nofile=1024:2048', bad: 'nofile=10:5' },
  '--stop-signal': { good: 'USR1' },
  '--stop-timeout': { good: '5' },
  '--tmpfs': { good: '/t:size=1m,mode=755', bad: '/t:mode=9' },
  '--shm-size': { good: '128m', bad: 'lots' },
  '--network': { good: 'ci', bad: 'bad/name' },
  '--network-alias': { good: 'db', bad: 'bad alias', with: ['--network', 'ci'] },
  '--publish': { good: '8080:80', bad: '8080:70000', with: ['--network', 'ci'] },
  '--hostname': { good: 'box', bad: 'bad_name!' },
  '--env': { good: 'A=1', bad: 'A\0B=1' },
  '--workdir': { good: '/tmp', bad: 'relative' },
  '--user': { good: 'alice:staff', bad: '4294967295' },
  '--memory': { good: '512m', bad: '1k' },
  '--memory-swap': { good: '1g', bad: '1m', with: ['-m', '512m'] },
  '--cpus': { good: '0.5', bad: '0' },
  '--cpu-weight': { good: '100', bad: '0' },
  '--cpuset-cpus': { good: '0', bad: '1-0' },
  '--pids-limit': { good: '100', bad: '0' },
  '--signal': { good: 'TERM' },
  '--time': { good: '5' },
  '--root': { good: '/tmp/state', bad: 'a\0b' },
  '--data-root': { good: '/tmp/data', bad: 'a\0b' },
  '--rootfs-overlay': { good: 'false', bad: 'true' },
  '--pull': { good: 'always' },
  '--platform': { good: 'linux/arm64' },
  '--output': { good: '/tmp/out.tar' },
  '--format': { good: 'oci-archive' },
  '--input': { good: '/tmp/in.tar' },
  '--type': { good: 'image' },
  '--message': { good: 'a change' },
  '--author': { good: 'me' },
  '--change': { good: 'CMD ["sh"]' },
  '--pod': { good: 'svc', bad: 'bad_name!' },
  // pod create's: a network's name, which only the network's lookup refuses; ports as run's.
  'pod --network': { good: 'ci' },
  'pod --publish': { good: '127.0.0.1:8080:80/udp', bad: '8080' },
  '--subnet': { good: '10.1.0.0/24' },
  '--alias': { good: 'db' },
  '--mtu': { good: '9000', bad: 'many' },
  '--health-cmd': { good: 'test -e /ready', bad: '' },
  '--health-interval': { good: '2s', bad: '2000h', with: ['--health-cmd', 'true'] },
  '--health-timeout': { good: '500ms', bad: '2000h', with: ['--health-cmd', 'true'] },
  '--health-retries': { good: '2', bad: '0', with: ['--health-cmd', 'true'] },
  '--health-start-period': { good: '1m30s', bad: '2000h', with: ['--health-cmd', 'true'] },
  '--tail': { good: '20' },
  '--since': { good: '10m' },
  'ps --format': { good: 'table {{.Names}}\\t{{.Status}}' },
};

/** A flag's example: its command's own when the same spelling means something else there. */
function exampleOf(def: CommandDef | undefined, flag: FlagDef): { good: string; bad?: string; with?: string[] } {
  return EXAMPLES[`${def?.name} ${flagName(flag)}`] ?? EXAMPLES[flagName(flag)];
}

/** Flags that are the command line's own business, not the library's: each with its reason. */
const CLI_ONLY: Record<string, string> = {
  help: 'prints help',
  version: 'prints the version',
  rm: 'what a foreground run does anyway',
  printUsage: 'printed by the CLI after the run',
  interactive: "the CLI passes its stdin on or not",
  json: 'output format',
  quiet: 'output format',
  raw: 'output escaping on a terminal',
  pull: "run's pull of its image before the container is made",
  all: 'which containers ps shows',
  noStream: 'how often stats reads',
  entrypoint: "the program of run's argv (the library takes argv, not an entrypoint)",
  platform: 'an argument of ImageStore.pull',
  force: 'an argument of ImageStore.remove',
  output: 'an argument of ImageStore.export',
  format: 'an argument of ImageStore.export',
  input: 'an argument of ImageStore.import',
  type: 'which lookup inspect makes',
  network: 'an argument of Pod.create',
  'publish[]': 'an argument of Pod.create (its ports)',
  subnet: 'an argument of Network.create',
  mtu: 'an argument of Network.create',
  internal: 'an argument of Network.create',
  'alias[]': 'an argument of net.connect',
  tail: 'an option of logs(), read by the CLI ("all" is its own)',
  since: 'an option of logs(): the CLI turns a duration before now into a time when it runs',
  timestamps: 'how the CLI prints the records',
};

/** A complete command line that puts `flagArgs` where the command takes flags. */
function commandLine(def: CommandDef | undefined, flagArgs: string[]): string[] {
  // inspect reads both the state root and the data root.
  if (def === undefined) return [...flagArgs, 'inspect', 'c1'];
  switch (def.name) {
    case 'run':
      return ['run', ...flagArgs, 'alpine', 'true'];
    case 'create':
      // A created container is detached without -d (which create refuses).
      return ['create', ...flagArgs.filter((a) => a !== '-d'), 'alpine', 'true'];
    case 'images':
      return ['images', ...flagArgs];
    case 'tag':
      return ['tag', ...flagArgs, 'a', 'b'];
    case 'save':
      return ['save', ...(flagArgs.some((a) => a.startsWith('-o') || a.startsWith('--output')) ? [] : ['-o', '/x.tar']), ...flagArgs, 'alpine'];
    case 'load':
      return ['load', ...(flagArgs.some((a) => a.startsWith('-i') || a.startsWith('--input')) ? [] : ['-i', '/x.tar']), ...flagArgs];
    case 'exec':
      return ['exec', ...flagArgs, 'c1', 'sh'];
    case 'list':
    case 'ps':
    case 'info':
      return [def.name, ...flagArgs];
    case 'commit':
      return ['commit', ...flagArgs, 'c1', 'img:1'];
    case 'pod': {
      // The action that takes the flag.
      const given = flagArgs.join(' ');
      if (/--json|-q/.test(given)) return ['pod', 'ls', ...flagArgs];
      if (/-f\b|--force/.test(given)) return ['pod', 'rm', ...flagArgs, 'c1'];
      return ['pod', 'create', ...flagArgs, 'c1'];
    }
    case 'network':
      if (/--alias/.test(flagArgs.join(' '))) return ['network', 'connect', ...flagArgs, 'n1', 'c1'];
      return ['network', 'create', ...flagArgs, 'n1'];
    default:
      return [def.name, ...flagArgs, 'c1'];
  }
}

const parse = (args: string[]): ParsedCommandLine => parseCommandLine(args, { cwd: '/home/me', env: {} });

/** Every declared flag with its command (undefined: a global flag). */
const ALL: [string, CommandDef | undefined, FlagDef][] = [
  ...GLOBAL_FLAGS.map((f): [string, CommandDef | undefined, FlagDef] => [`(global) ${flagName(f)}`, undefined, f]),
  ...COMMANDS.flatMap((def) => def.flags.map((f): [string, CommandDef | undefined, FlagDef] => [`${def.name} ${flagName(f)}`, def, f])),
];
const WITH_VALUE = ALL.filter(([, , f]) => f.value !== undefined);

/** The value a flag's target names in what parsing gave. */
function valueAt(parsed: ParsedCommandLine, flag: FlagDef): unknown {
  const { scope, path } = splitTarget(flag.target);
  const keys = path.replace(/(\[\]|\{\})$/, '').split('.');
  // A method's argument is a field of the parsed command: stop.timeout is `timeout`.
  if (scope === 'call') return (parsed as unknown as Record<string, unknown>)[keys[keys.length - 1]];
  let node: unknown = scope === 'container' && 'options' in parsed ? parsed.options : parsed;
  if (scope === 'container' && keys[0] === 'stateRoot' && !('options' in parsed)) return (parsed as { stateRoot?: string }).stateRoot;
  if (scope === 'container' && keys[0] === 'dataRoot' && !('options' in parsed)) return (parsed as { dataRoot?: string }).dataRoot;
  // --network NAME alone is the plain option `network: NAME`, not { name }.
  for (const key of keys) node = typeof node === 'string' && key === 'name' ? node : (node as Record<string, unknown> | undefined)?.[key];
  return node;
}

describe('the declarations', () => {
  test('the commands are the help topics', () => {
    expect(COMMANDS.map((c) => c.name).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  test.each(ALL)('%s: has help, and its help lists every spelling', (_name, def, flag) => {
    expect(flag.help.trim().length).toBeGreaterThan(10);
    const text = helpText(def?.name ?? 'main');
    for (const spelling of spellings(flag)) expect(text).toMatch(new RegExp(`(^|[ ,(])${spelling}\\b`, 'm'));
    if (flag.value !== undefined) expect(text).toContain(`${flag.names[flag.names.length - 1]} ${flag.value}`);
  });

  test.each(ALL)('%s: maps to an option the library has, or is the command line\'s own', (_name, def, flag) => {
    const { scope, path } = splitTarget(flag.target);
    if (scope === 'cli') {
      expect(CLI_ONLY).toHaveProperty([path]);
      return;
    }
    if (scope === 'call') {
      const method = path.split('.')[0];
      const owner = method === 'remove' ? Container : Container.prototype;
      expect(typeof (owner as unknown as Record<string, unknown>)[method]).toBe('function');
    }
    const example = flag.value === undefined ? undefined : exampleOf(def, flag);
    if (flag.value !== undefined) expect(example).toBeDefined();
    // Each spelling, through commander and the library's check, sets the value where declared.
    const without = valueAt(parse(commandLine(def, example?.with ?? [])), flag);
    for (const spelling of spellings(flag)) {
      const args = example === undefined ? [spelling] : [...(example.with ?? []), spelling, example.good];
      const value = valueAt(parse(commandLine(def, args)), flag);
      expect(value).toBeDefined();
      expect(value).not.toEqual(without);
    }
  });

  test.each(WITH_VALUE)('%s: the value may be attached (-xVALUE, --flag=VALUE)', (_name, def, flag) => {
    const example = exampleOf(def, flag);
    const apart = parse(commandLine(def, [...(example.with ?? []), flag.names[0], example.good]));
    for (const spelling of spellings(flag)) {
      const attached = spelling.startsWith('--') ? [`${spelling}=${example.good}`] : [`${spelling}${example.good}`];
      expect(parse(commandLine(def, [...(example.with ?? []), ...attached]))).toEqual(apart);
    }
  });

  test.each(WITH_VALUE.filter(([, d, f]) => exampleOf(d, f).bad !== undefined))(
    '%s: a value the library refuses is reported under the spelling given',
    (_name, def, flag) => {
      const example = exampleOf(def, flag);
      for (const spelling of spellings(flag)) {
        const e = usageError(() => parse(commandLine(def, [...(example.with ?? []), spelling, example.bad!])));
        expect(e.flag).toBe(spelling);
        expect(e.message.startsWith(`${spelling}: `)).toBe(true);
        // The library's own path of the option is not shown when the flag stands for it.
        const { path } = splitTarget(flag.target);
        expect(e.message).not.toMatch(new RegExp(`^${spelling}: ${path.split(/[.[{]/)[0]}[.:[]`));
        expect(e.topic).toBe(def?.name ?? 'main');
      }
    },
  );

  test('a value missing after the last flag names the flag', () => {
    for (const [, def, flag] of WITH_VALUE) {
      const args = def === undefined ? [flag.names[0]] : [def.name, flag.names[0]];
      expect(usageError(() => parse(args)).message).toMatch(new RegExp(`^${flag.names[0]}: requires `));
    }
  });

  test('a switch given a value is refused, naming it', () => {
    for (const [, def, flag] of ALL.filter(([, d, f]) => d !== undefined && f.value === undefined)) {
      const long = flag.names.find((n) => n.startsWith('--'))!;
      const e = usageError(() => parse(commandLine(def, [`${long}=yes`])));
      expect(e.message).toBe(`${long}: takes no value, got '${long}=yes'`);
    }
  });
});

describe('library errors in the words of the flag', () => {
  const origins = [
    { scope: 'container' as const, path: 'mounts[0]', spelling: '--mount' },
    { scope: 'container' as const, path: 'mounts[1]', spelling: '--tmpfs' },
    { scope: 'container' as const, path: 'resources.memory', spelling: '-m' },
    { scope: 'container' as const, path: 'env', spelling: '-e' },
  ];

  test('the longest path that the message starts with names the flag; what lies below stays', () => {
    expect(flagMessage('mounts[1].mode: expected an octal mode', origins, 'container')).toEqual({
      flag: '--tmpfs',
      message: '--tmpfs: mode: expected an octal mode',
    });
    expect(flagMessage('resources.memory: must be at least 6m', origins, 'container')).toEqual({
      flag: '-m',
      message: '-m: must be at least 6m',
    });
    expect(flagMessage('env.A\\0B: invalid variable name', origins, 'container')?.message).toBe('-e: A\\0B: invalid variable name');
  });

  test('a path no flag set, or a prefix that is not a whole key, names no flag', () => {
    expect(flagMessage('resources.memorySwap: needs resources.memory', origins, 'container')).toBeUndefined();
    expect(flagMessage('hostname: expected a hostname', origins, 'container')).toBeUndefined();
    expect(flagMessage('env.A: bad', origins, 'process')).toBeUndefined();
  });

  test('a rule about two options is reported under the flag whose value broke it', () => {
    const e = usageError(() => parse(['run', '--memory-swap', '1g', '--', 'true']));
    expect(e.flag).toBe('--memory-swap');
    expect(e.message).toBe('--memory-swap: needs resources.memory');
  });
});
