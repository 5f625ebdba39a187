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
  const r = withoutServiceStarts(() =>
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }),
  );
  stopPackagedServices();
  if (r.status !== 0) console.warn(`apt-get install failed (status ${r.status}); still missing: ${missingPackages(missing).join(' ')}`);
}

const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/**
 * Runs an apt-get with a policy-rc.d that forbids starting services (exit 101), unless the
 * machine has one already: docker-registry's package would otherwise start a registry on
 * port 5000 of the host. .ci/run does the same.
 */
function withoutServiceStarts<T>(install: () => T): T {
  if (fs.existsSync(POLICY_RC_D)) return install();
  fs.writeFileSync(POLICY_RC_D, '#!/bin/sh\n# ts-container tests: no service starts during apt-get\nexit 101\n', { mode: 0o755 });
  try {
    return install();
  } finally {
    fs.rmSync(POLICY_RC_D, { force: true });
  }
}

/** Packaged services the tests start themselves, stopped and disabled where systemd runs them. */
const TEST_STARTED_SERVICES = ['docker-registry'];

function stopPackagedServices(): void {
  if (!fs.existsSync('/run/systemd/system')) return;
  for (const service of TEST_STARTED_SERVICES) {
    spawnSync('systemctl', ['disable', '--now', `${service}.service`], { stdio: 'ignore' });
  }
}
