/**
 * The apt packages the tests need (test/apt-packages.txt, the one list that .ci/run installs
 * too): the missing ones are installed in one apt-get call when the suite runs as root, and
 * named in one line otherwise, so that a test failing for want of a tool is explained up front.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const LIST = path.resolve(__dirname, '..', 'apt-packages.txt');

/** The package names of test/apt-packages.txt. */
export function testAptPackages(): string[] {
  return fs
    .readFileSync(LIST, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/** The listed packages dpkg does not report as installed (all of them where there is no dpkg). */
function missingPackages(names: string[]): string[] {
  return names.filter((name) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !/ installed$/.test(r.stdout);
  });
}

export function ensureTestAptPackages(): void {
  const missing = missingPackages(testAptPackages());
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    console.warn(`test packages missing (from test/apt-packages.txt; tests that need them will fail): ${missing.join(' ')}`);
    return;
  }
  console.warn(`installing the missing test packages: ${missing.join(' ')}`);
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) console.warn(`apt-get install failed (status ${r.status}); still missing: ${missingPackages(missing).join(' ')}`);
}
