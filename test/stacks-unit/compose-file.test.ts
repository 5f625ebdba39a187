/**
 * Reading compose files and checking stack descriptions, without containers: the supported
 * subset as Stack runs it, and every refusal a StackFileError naming its key (and file).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StackFileError } from '../../lib/errors/errors';
import { findComposeFile, readComposeFile } from '../../lib/stacks/compose-file';
import { parseDuration } from '../../lib/stacks/durations';
import { normalizeStack, projectFromDirectory } from '../../lib/stacks/normalize';
import { splitWords } from '../../lib/stacks/words';
import { Stack } from '../../lib/stacks/stack';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-compose-unit-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const context = { directory: '/srv/My App!' };
const normalize = (raw: unknown, extra: Partial<typeof context & { project: string }> = {}) => normalizeStack(raw, { ...context, ...extra });

function refusal(fn: () => unknown): StackFileError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StackFileError);
    return error as StackFileError;
  }
  throw new Error('expected a StackFileError');
}

describe('normalizeStack', () => {
  test('a service gets its container id, argv, env, ports, mounts and the default network', () => {
    process.env.TSC_UNIT_INHERITED = 'from-host';
    const stack = normalize({
      services: {
        web: {
          image: 'localhost/web:1',
          command: `sh -c 'echo "a b"' x\\ y`,
          environment: ['A=1', 'B=x=y', 'TSC_UNIT_INHERITED', 'TSC_UNIT_UNSET'],
          ports: ['8080:80', '127.0.0.1:5353:53/udp', { target: 443, published: '8443', host_ip: '127.0.0.1' }],
          volumes: ['data:/var/data:ro', './site:/site', '/etc/hosts:/h', { type: 'tmpfs', target: '/scratch' }],
        },
      },
      volumes: { data: null },
    });
    expect(stack.project).toBe('myapp');
    const [web] = stack.services;
    expect(web).toMatchObject({
      name: 'web',
      containerId: 'myapp-web-1',
      command: ['sh', '-c', 'echo "a b"', 'x y'],
      entrypoint: null,
      environment: { A: '1', B: 'x=y', TSC_UNIT_INHERITED: 'from-host' },
      ports: [{ host: 8080, container: 80 }, { host: 5353, container: 53, protocol: 'udp', hostIp: '127.0.0.1' }, { host: 8443, container: 443, hostIp: '127.0.0.1' }],
      mounts: [
        { type: 'volume', source: 'myapp_data', target: '/var/data', readonly: true },
        { type: 'bind', source: '/srv/My App!/site', target: '/site', readonly: false },
        { type: 'bind', source: '/etc/hosts', target: '/h', readonly: false },
        { type: 'tmpfs', target: '/scratch', readonly: false },
      ],
      networks: [{ key: 'default', aliases: ['web'] }],
    });
    expect(stack.networks).toEqual([{ key: 'default', name: 'myapp_default', external: false, internal: false }]);
    expect(stack.volumes).toEqual([{ key: 'data', name: 'myapp_data', external: false }]);
  });

  test('the project: the option wins over the description\'s name, which wins over the directory', () => {
    expect(normalize({ name: 'named', services: { a: { image: 'i' } } }).project).toBe('named');
    expect(normalize({ name: 'named', services: { a: { image: 'i' } } }, { project: 'given' }).project).toBe('given');
    expect(projectFromDirectory('/x/Hello_World-2')).toBe('hello_world-2');
    expect(refusal(() => normalize({ name: 'Bad Name', services: { a: { image: 'i' } } })).key).toBe('name');
  });

  test('depends_on: services are ordered after their dependencies, with their conditions', () => {
    const stack = normalize({
      services: {
        app: { image: 'i', depends_on: { db: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' } } },
        migrate: { image: 'i', depends_on: ['db'] },
        db: { image: 'i', healthcheck: { test: 'pg_isready', interval: '1m30s', timeout: '500ms', retries: 5, start_period: '2s' } },
      },
    });
    expect(stack.services.map((s) => s.name)).toEqual(['db', 'migrate', 'app']);
    expect(stack.services[2].dependsOn).toEqual([
      { service: 'db', condition: 'service_healthy', required: true },
      { service: 'migrate', condition: 'service_completed_successfully', required: true },
    ]);
    expect(stack.services[0].healthcheck).toEqual({ test: ['/bin/sh', '-c', 'pg_isready'], interval: 90_000, timeout: 500, retries: 5, startPeriod: 2000 });
  });

  test('healthcheck forms: CMD, CMD-SHELL, NONE, disable, and compose\'s defaults', () => {
    const health = (healthcheck: unknown) => normalize({ services: { a: { image: 'i', healthcheck } } }).services[0].healthcheck;
    expect(health({ test: ['CMD', 'curl', '-f', 'http://localhost'] })).toEqual({ test: ['curl', '-f', 'http://localhost'], interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0 });
    expect(health({ test: ['CMD-SHELL', 'test -f /ready'] })).toMatchObject({ test: ['/bin/sh', '-c', 'test -f /ready'] });
    expect(health({ test: ['NONE'] })).toBe('none');
    expect(health({ test: ['CMD', 'x'], disable: true })).toBe('none');
    expect(health(undefined)).toBeNull();
    expect(refusal(() => health({ test: ['CMD'] })).key).toBe('services.a.healthcheck.test');
    expect(refusal(() => health({ test: ['CMD', 'x'], interval: '10 parsecs' })).key).toBe('services.a.healthcheck.interval');
  });

  test('networks: declared ones get project-prefixed names and aliases; external ones keep theirs', () => {
    const stack = normalize({
      services: { a: { image: 'i', networks: { front: { aliases: ['www'] }, back: null } }, b: { image: 'i', networks: ['back'] } },
      networks: { front: { internal: true }, back: { external: true, name: 'shared' }, unused: {} },
    });
    expect(stack.networks).toEqual([
      { key: 'front', name: 'myapp_front', external: false, internal: true },
      { key: 'back', name: 'shared', external: true, internal: false },
    ]);
    expect(stack.services[0].networks).toEqual([{ key: 'front', aliases: ['a', 'www'] }, { key: 'back', aliases: ['a'] }]);
  });

  test.each([
    ['an unsupported top-level key', { services: { a: { image: 'i' } }, configs: {} }, 'configs', /not supported by ts-container/],
    ['an unsupported service key', { services: { a: { image: 'i', build: '.' } } }, 'services.a.build', /not supported by ts-container \(supported here: image, command/],
    ['an unsupported healthcheck key', { services: { a: { image: 'i', healthcheck: { test: 'x', start_interval: '1s' } } } }, 'services.a.healthcheck.start_interval', /not supported/],
    ['an unsupported network option', { services: { a: { image: 'i', networks: { n: { ipv4_address: '10.0.0.2' } } } }, networks: { n: {} } }, 'services.a.networks.n.ipv4_address', /not supported/],
    ['no image', { services: { a: { command: 'x' } } }, 'services.a.image', /building images is not supported/],
    ['no services', { services: {} }, 'services', /at least one service/],
    ['a dependency cycle', { services: { a: { image: 'i', depends_on: ['b'] }, b: { image: 'i', depends_on: ['c'] }, c: { image: 'i', depends_on: ['a'] } } }, 'services.a.depends_on', /a dependency cycle: a -> b -> c -> a/],
    ['an unknown dependency', { services: { a: { image: 'i', depends_on: ['ghost'] } } }, 'services.a.depends_on', /no service named "ghost"/],
    ['an unknown condition', { services: { a: { image: 'i', depends_on: { b: { condition: 'service_done' } } }, b: { image: 'i' } } }, 'services.a.depends_on.b.condition', /expected one of service_started/],
    ['an undeclared volume', { services: { a: { image: 'i', volumes: ['data:/d'] } } }, 'services.a.volumes[0]', /volume "data" is not defined in the top-level volumes/],
    ['an anonymous volume', { services: { a: { image: 'i', volumes: ['/d'] } } }, 'services.a.volumes[0]', /anonymous volumes are not supported/],
    ['a volume mode', { services: { a: { image: 'i', volumes: ['./x:/d:z'] } } }, 'services.a.volumes[0]', /only the modes ro and rw/],
    ['an undeclared network', { services: { a: { image: 'i', networks: ['back'] } } }, 'services.a.networks.back', /not defined in the top-level networks/],
    ['a port without a host port', { services: { a: { image: 'i', ports: ['80'] } } }, 'services.a.ports[0]', /a host port is needed/],
    ['a port range', { services: { a: { image: 'i', ports: ['8000-8001:80-81'] } } }, 'services.a.ports[0]', /port ranges are not supported/],
    ['a port out of range', { services: { a: { image: 'i', ports: ['70000:80'] } } }, 'services.a.ports[0]', /expected a port 1-65535/],
    ['a bad restart policy', { services: { a: { image: 'i', restart: 'sometimes' } } }, 'services.a.restart', /expected no, always/],
    ['unbalanced quotes', { services: { a: { image: 'i', command: "sh -c 'echo" } } }, 'services.a.command', /unbalanced quotes/],
    ['a non-bridge network driver', { services: { a: { image: 'i', networks: ['n'] } }, networks: { n: { driver: 'overlay' } } }, 'networks.n.driver', /only "bridge"/],
  ])('refuses %s, naming its key', (_what, raw, key, message) => {
    const error = refusal(() => normalize(raw));
    expect(error).toMatchObject({ name: 'StackFileError', code: 'ESTACKFILE', key });
    expect(error.message).toMatch(message);
  });

  test('extension keys (x-...) are ignored, as compose ignores them', () => {
    expect(normalize({ 'x-common': { a: 1 }, services: { a: { image: 'i', 'x-note': 'n' } } }).services).toHaveLength(1);
  });
});

describe('compose files', () => {
  test('the file of a directory: compose.yaml first, then compose.yml, docker-compose.yml, docker-compose.yaml', () => {
    const dir = tempDir();
    expect(() => findComposeFile(dir)).toThrow(/no compose file in .* \(looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml\)/);
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), '');
    expect(findComposeFile(dir)).toBe(path.join(dir, 'docker-compose.yml'));
    fs.writeFileSync(path.join(dir, 'compose.yaml'), '');
    expect(findComposeFile(dir)).toBe(path.join(dir, 'compose.yaml'));
  });

  test('YAML with anchors and merge keys, and variables interpolated as compose does', () => {
    const file = path.join(tempDir(), 'compose.yaml');
    fs.writeFileSync(file, [
      'x-base: &base',
      '  image: "${IMAGE:-localhost/default:1}"',
      'services:',
      '  a:',
      '    <<: *base',
      '    command: echo $$HOME ${TAG} $TAG ${EMPTY:-fallback} ${EMPTY-kept}',
    ].join('\n'));
    const raw = readComposeFile(file, { TAG: 'v2', EMPTY: '' }) as { services: { a: { image: string; command: string } } };
    expect(raw.services.a).toEqual({ image: 'localhost/default:1', command: 'echo $HOME v2 v2 fallback ' });
  });

  test('.env beside the file gives variables; this process\'s environment wins over it', () => {
    const dir = tempDir();
    const file = path.join(dir, 'compose.yaml');
    fs.writeFileSync(path.join(dir, '.env'), '# comment\nTAG=from-dotenv\nexport QUOTED="a b\\nc"\nSINGLE=\'$x\'\nTRAIL=v # note\nTSC_UNIT_OVERRIDDEN=dotenv\n');
    fs.writeFileSync(file, 'services:\n  a:\n    image: "img:${TAG}"\n    environment: ["Q=${QUOTED}", "S=${SINGLE}", "T=${TRAIL}", "O=${TSC_UNIT_OVERRIDDEN}"]\n');
    process.env.TSC_UNIT_OVERRIDDEN = 'process';
    try {
      expect(readComposeFile(file)).toEqual({ services: { a: { image: 'img:from-dotenv', environment: ['Q=a b\nc', 'S=$x', 'T=v', 'O=process'] } } });
    } finally {
      delete process.env.TSC_UNIT_OVERRIDDEN;
    }
    fs.writeFileSync(path.join(dir, '.env'), 'not a variable\n');
    expect(refusal(() => readComposeFile(file)).message).toBe(`${path.join(dir, '.env')}: line 1: expected KEY=VALUE, got "not a variable"`);
  });

  test('bad files: StackFileErrors naming the file (and the line, or the variable)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'compose.yaml');
    expect(refusal(() => readComposeFile(path.join(dir, 'none.yaml'))).message).toBe(`${path.join(dir, 'none.yaml')}: no such file`);
    fs.writeFileSync(file, 'services:\n  a:\n    image: [unclosed\n');
    const yaml = refusal(() => readComposeFile(file));
    expect(yaml.file).toBe(file);
    expect(yaml.message).toMatch(/not valid YAML \(line \d+, column \d+\)/);
    fs.writeFileSync(file, 'services:\n  a:\n    image: x\n    image: y\n');
    expect(refusal(() => readComposeFile(file)).message).toMatch(/not valid YAML.*unique/i);
    fs.writeFileSync(file, 'services:\n  a:\n    image: "${NEEDED:?set NEEDED}"\n');
    expect(refusal(() => readComposeFile(file, {}))).toMatchObject({ key: 'services.a.image', message: `${file}: services.a.image: required variable NEEDED is missing: set NEEDED` });
  });
});

describe('words and durations', () => {
  test('commands split as a shell splits words, without expansion', () => {
    expect(splitWords(`a  "b c" 'd "e"' f\\ g "h\\"i" $HOME`)).toEqual(['a', 'b c', 'd "e"', 'f g', 'h"i', '$HOME']);
    expect(splitWords('')).toEqual([]);
    expect(splitWords('"open')).toBeUndefined();
  });

  test('durations as compose writes them, in ms', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(20)).toBe(20);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('5 s')).toBeUndefined();
  });
});

describe('Stack.fromFile', () => {
  test('a bad file throws before anything is made, naming the file and key', () => {
    const dir = tempDir();
    const dataRoot = path.join(dir, 'data');
    const stateRoot = path.join(dir, 'state');
    fs.writeFileSync(path.join(dir, 'compose.yml'), 'services:\n  web:\n    image: localhost/web:1\n    build: .\n');
    const error = refusal(() => Stack.fromFile(dir, { dataRoot, stateRoot }));
    expect(error).toMatchObject({ key: 'services.web.build', file: path.join(dir, 'compose.yml') });
    expect(error.message).toMatch(/^\/.*compose\.yml: services\.web\.build: not supported by ts-container/);
    expect(fs.readdirSync(dir)).toEqual(['compose.yml']);
  });

  test('the project is the directory\'s name unless given', () => {
    const dir = path.join(tempDir(), 'Web-Shop');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: localhost/web:1\n  db:\n    image: localhost/db:1\n');
    expect(Stack.fromFile(dir)).toMatchObject({ project: 'web-shop', services: ['web', 'db'] });
    expect(Stack.fromFile(path.join(dir, 'compose.yaml'), { project: 'other' }).project).toBe('other');
  });
});
