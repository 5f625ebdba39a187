/**
 * The built package's types (dist/index.d.ts, what `npm install ts-container` gives an editor):
 * the type tests of test/types pass against them as against the sources, and none of the
 * runtime's own machinery is declared there, exported or not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { typeCheck, typeTestFiles } from './support/type-check';

const DTS = path.join(__dirname, '..', 'dist', 'index.d.ts');

test('the type tests pass against dist/index.d.ts', () => {
  const r = typeCheck(typeTestFiles(), 'dist');
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}, 120_000);

test.each(['ProcessLaunch', 'ResolvedStdio', 'HelperReport', 'ExitWatcherHandle', 'ProcessResources', 'ContentStore', 'LayerStore', 'Lease', 'launchProcess', 'contextOf'])(
  '%s is not in dist/index.d.ts',
  (name) => {
    const dts = fs.readFileSync(DTS, 'utf8');
    expect(dts).toMatch(/declare class Container\b/);
    // Declared (a class, interface, type, function or variable) or named as a member's type.
    expect(dts).not.toMatch(new RegExp(`(class|interface|type|function|const|let) ${name}\\b|: ${name}\\b`));
  },
);

test('ContainerConfig is not exported (Container["config"] names it)', () => {
  const dts = fs.readFileSync(DTS, 'utf8');
  const exported = [...dts.matchAll(/^export \{([^}]*)\}/gm)].map((m) => m[1]).join(',');
  expect(exported).toMatch(/\bContainer\b/);
  expect(exported).not.toMatch(/\bContainerConfig\b/);
});
