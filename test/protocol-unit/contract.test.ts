/**
 * The TypeScript-native contract (protocol/): the committed generated files are what the
 * declaration makes, and every declared plan key is both emitted by the TypeScript side and
 * handled by the native side. A key declared, emitted or handled on one side only fails here
 * (and, for C++, the build: plan.cc's switch is compiled with -Werror=switch).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateProtocol, pascalCase, REPOSITORY_ROOT } from '../../scripts/generate-protocol';
import { PLAN_FIELDS } from '../../protocol/plan-fields';
import { REPORT_STEPS } from '../../protocol/report-steps';
import { encodePlanValue, serializePlan } from '../../lib/protocol/generated/plan';

const read = (file: string): string => fs.readFileSync(path.join(REPOSITORY_ROOT, file), 'utf8');

function filesUnder(dir: string, extension: string): string[] {
  return fs
    .readdirSync(path.join(REPOSITORY_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(extension) && !file.includes('generated'))
    .map((file) => path.join(dir, file));
}

/** The TypeScript sources that may emit plan entries. */
const TS_SOURCES = filesUnder('lib', '.ts').map((file) => ({ file, text: read(file) }));

describe('the generated protocol files', () => {
  for (const [file, text] of generateProtocol()) {
    test(`${file} is what protocol/ declares (run npm run generate)`, () => {
      expect(read(file)).toBe(text);
    });
  }
});

describe('plan keys', () => {
  test('are declared once each', () => {
    const keys = PLAN_FIELDS.map((f) => f.key);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    const names = keys.map(pascalCase);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  test('group members name a declared key that starts their group', () => {
    for (const field of PLAN_FIELDS.filter((f) => f.group)) {
      expect(PLAN_FIELDS.map((f) => f.key)).toContain(field.group);
      expect(field.key.startsWith(`${field.group}.`)).toBe(true);
    }
  });

  test.each(PLAN_FIELDS.map((f) => f.key))('%s is emitted by the TypeScript side', (key) => {
    // An entry is a tuple whose first element is the key: ['tty.rows', ...].
    const emitted = new RegExp(`\\[\\s*'${key.replace(/[.]/g, '\\.')}'\\s*,`);
    const emitters = TS_SOURCES.filter(({ text }) => emitted.test(text)).map(({ file }) => file);
    expect(emitters).not.toEqual([]);
  });

  test.each(PLAN_FIELDS.map((f) => f.key))('%s is handled by native/common/plan.cc', (key) => {
    expect(read('native/common/plan.cc')).toContain(`case PlanKey::${pascalCase(key)}:`);
  });

  test('native/common/plan.cc handles no key by its text and has no default case', () => {
    const planCc = read('native/common/plan.cc');
    expect(planCc).not.toMatch(/key == "/);
    expect(planCc).not.toMatch(/^\s*default\s*:/m);
  });

  test('the native build turns a missing case into an error', () => {
    expect(read('binding.gyp')).toContain('-Werror=switch');
  });
});

describe('plan encodings', () => {
  test('structured values are spelled as the native side splits them', () => {
    expect(encodePlanValue('rlimit', { name: 'nofile', soft: 1024, hard: (1n << 64n) - 1n })).toBe('nofile 1024 18446744073709551615');
    expect(encodePlanValue('uidmap', { containerId: 0, hostId: 100000, size: 65536 })).toBe('0 100000 65536');
    expect(encodePlanValue('tmpfs.size', { target: '/tmp', bytes: 1048576 })).toBe('/tmp 1048576');
    expect(encodePlanValue('tty', true)).toBe('1');
    expect(encodePlanValue('rootfs.readonly', false)).toBe('0');
  });

  test('a value its type cannot carry is refused before it reaches the helper', () => {
    expect(() => encodePlanValue('uid', -1)).toThrow(/plan entry uid/);
    expect(() => encodePlanValue('uid', 1.5)).toThrow(/plan entry uid/);
    expect(() => encodePlanValue('rlimit', { name: 'no file', soft: 1, hard: 1 })).toThrow(/plan entry rlimit/);
    expect(() => encodePlanValue('tmpfs.size', { target: 'tmp', bytes: 1 })).toThrow(/absolute/);
    expect(() => encodePlanValue('arg', 'a\0b')).toThrow(/NUL/);
    expect(() => encodePlanValue('seccomp', 'ABC')).toThrow(/hex/);
  });

  test('serializePlan writes NUL-ended key=value entries', () => {
    expect(serializePlan([['mode', 'run'], ['arg', 'sh'], ['tty.rows', 24]]).toString('utf8')).toBe('mode=run\0arg=sh\0tty.rows=24\0');
  });
});

/** The native sources, generated headers left out. */
const NATIVE_SOURCES = [...filesUnder('native', '.cc'), ...filesUnder('native', '.h')].map((file) => read(file)).join('\n');

describe('report steps', () => {
  test.each(REPORT_STEPS.filter((s) => s.id !== 0).map((s) => s.name))('%s is reported by the native side', (name) => {
    expect(NATIVE_SOURCES).toContain(`StepId::${name}`);
  });


  test('have unique ids and names, and Unclassified is 0', () => {
    const ids = REPORT_STEPS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(REPORT_STEPS.map((s) => s.name)).size).toBe(ids.length);
    expect(REPORT_STEPS.find((s) => s.id === 0)?.name).toBe('Unclassified');
  });
});
