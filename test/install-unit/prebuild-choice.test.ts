/**
 * scripts/install.js's choice between the shipped prebuild and a node-gyp build, for machines
 * this one is not: another glibc, musl, another CPU, a prebuild missing a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

interface Machine {
  root: string;
  env: Record<string, string | undefined>;
  platform: string;
  arch: string;
  glibc: string | undefined;
}
const { whyNoPrebuild } = require('../../scripts/install.js') as { whyNoPrebuild: (machine: Machine) => string | null };

/** A package root as npm unpacks it, with a linux-x64 prebuild needing glibc 2.36. */
function packageRoot(): string {
  const root = tempDir('tsc-prebuild-choice-');
  const dir = path.join(root, 'prebuilds', 'linux-x64');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of ['ts_container.node', 'ts-container-helper']) fs.writeFileSync(path.join(dir, file), '');
  fs.writeFileSync(path.join(dir, 'prebuild.json'), JSON.stringify({ platform: 'linux', arch: 'x64', libc: 'glibc', glibc: '2.36' }));
  return root;
}

function machine(overrides: Partial<Machine> = {}): Machine {
  return { root: packageRoot(), env: {}, platform: 'linux', arch: 'x64', glibc: '2.36', ...overrides };
}

afterAll(() => removeTempDirs());

test('a prebuild for this arch and a glibc as new as it needs fits', () => {
  expect(whyNoPrebuild(machine())).toBeNull();
  expect(whyNoPrebuild(machine({ glibc: '2.41' }))).toBeNull();
  expect(whyNoPrebuild(machine({ env: { TS_CONTAINER_BUILD_FROM_SOURCE: '0' } }))).toBeNull();
});

test.each([
  ['an older glibc', { glibc: '2.35' }, 'glibc 2.35 is older than the 2.36 the prebuild needs'],
  ['musl (no glibc version)', { glibc: undefined }, 'this C library is not glibc'],
  ['a CPU without a prebuild', { arch: 'ppc64' }, 'no prebuild for linux-ppc64'],
  ['another OS', { platform: 'darwin' }, 'no prebuild for darwin'],
  ['the override', { env: { TS_CONTAINER_BUILD_FROM_SOURCE: '1' } }, 'TS_CONTAINER_BUILD_FROM_SOURCE is set'],
])('%s builds from source', (_what, overrides, reason) => {
  expect(whyNoPrebuild(machine(overrides as Partial<Machine>))).toBe(reason);
});

test('a prebuild without its helper, or a git checkout, builds from source', () => {
  const partial = machine();
  fs.rmSync(path.join(partial.root, 'prebuilds', 'linux-x64', 'ts-container-helper'));
  expect(whyNoPrebuild(partial)).toBe('the linux-x64 prebuild has no ts-container-helper');
  const checkout = machine();
  fs.mkdirSync(path.join(checkout.root, '.git'));
  expect(whyNoPrebuild(checkout)).toBe('this is a git checkout');
});
