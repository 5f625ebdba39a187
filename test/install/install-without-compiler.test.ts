/**
 * The package as a user gets it: `npm pack` (which makes the prebuilt binaries when they are
 * stale and rebuilds dist/ under running programs), then an install of the tarball into a fresh
 * project on a PATH with node and npm but no compiler, and containers run from that project.
 * The node-gyp fallback is installed too, with the prebuilds hidden by the documented override.
 *
 * npm runs offline inside a network namespace of its own (`unshare --net`): the project's
 * dependencies come from npm's cache (filled by the checkout's own `npm ci`) through a lockfile
 * made from the checkout's, so no packument is needed and nothing leaves the machine.
 */
import { spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import type { Duplex } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTempDirs, tempDir } from '../support/temp-dirs';

const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const LOCK = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version: string; resolved: string; integrity: string }>;
};
const ARCH_MACHINES = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' } as const;
const COMPILERS = ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python'];
const QEMU = '/usr/bin/qemu-aarch64';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

jest.setTimeout(20 * 60 * 1000);

let work: string;
let tarball: string;
let unpacked: string;
let distMisses = 0;
let distChecks = 0;
let cliInodeBefore: number;

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
}

function ok(result: SpawnSyncReturns<string>): string {
  if (result.status !== 0) throw new Error(`exit ${result.status ?? result.signal}: ${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** npm pack of the checkout, while dist/cli.js and dist/index.js are looked at every few ms. */
async function packWatchingDist(destination: string): Promise<void> {
  const watched = ['cli.js', 'index.js'].map((f) => path.join(ROOT, 'dist', f));
  const timer = setInterval(() => {
    for (const file of watched) {
      distChecks++;
      if (!fs.existsSync(file)) distMisses++;
    }
  }, 3);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('npm', ['pack', '--pack-destination', destination], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm pack ended with ${code}:\n${output}`))));
    });
  } finally {
    clearInterval(timer);
  }
}

/** A directory of links to what npm needs to run (node, npm, npx, sh) and nothing that compiles. */
function pathWithoutCompiler(dir: string): string {
  fs.mkdirSync(dir);
  const nodeBin = path.dirname(process.execPath);
  for (const [name, target] of [
    ['node', process.execPath],
    ['npm', path.join(nodeBin, 'npm')],
    ['npx', path.join(nodeBin, 'npx')],
    ['sh', '/bin/sh'],
  ]) {
    fs.symlinkSync(fs.realpathSync(target), path.join(dir, name));
  }
  return dir;
}

/** A fresh project depending on the tarball, locked to the checkout's versions of its dependencies. */
function freshProject(dir: string): string {
  fs.mkdirSync(dir);
  const dependencies: Record<string, string> = { 'ts-container': `file:${tarball}` };
  const packages: Record<string, object> = {
    '': { name: 'fresh-project', version: '1.0.0', dependencies },
    'node_modules/ts-container': {
      version: PACKAGE.version,
      resolved: `file:${tarball}`,
      hasInstallScript: true,
      dependencies: PACKAGE.dependencies,
      bin: { 'ts-container': 'dist/cli.js' },
    },
  };
  for (const name of Object.keys(PACKAGE.dependencies)) {
    const { version, resolved, integrity } = LOCK.packages[`node_modules/${name}`];
    packages[`node_modules/${name}`] = { version, resolved, integrity };
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true, dependencies }, null, 2));
  fs.writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'fresh-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  return dir;
}

/** `npm ci` offline, in a network namespace with nothing in it. */
function npmCiOffline(project: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return run('/usr/bin/unshare', ['--net', '--', 'npm', 'ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
    cwd: project,
    env,
  });
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
}

// Runs in the fresh project: the library as a user requires it, a container printing "ok".
const LIBRARY_SCRIPT = `
const { Container } = require('ts-container');
(async () => {
  const container = new Container({ stateRoot: process.argv[1] });
  try {
    const proc = container.spawn(['sh', '-c', 'echo ok'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    const status = await proc.wait();
    process.stdout.write(JSON.stringify({ out, exitCode: status.exitCode }));
  } finally {
    await container.destroy();
  }
})().catch((err) => { console.error(err); process.exit(1); });
`;

function runsContainers(project: string, env: NodeJS.ProcessEnv): void {
  const stateRoot = tempDir('tsc-install-state-');
  const library = ok(run('node', ['-e', LIBRARY_SCRIPT, stateRoot], { cwd: project, env }));
  expect(JSON.parse(library)).toEqual({ out: 'ok\n', exitCode: 0 });
  const cli = run('npx', ['--offline', 'ts-container', '--root', stateRoot, 'run', '--rm', '--', 'sh', '-c', 'echo ok && true'], {
    cwd: project,
    env,
  });
  expect({ status: cli.status, stdout: cli.stdout }).toEqual({ status: 0, stdout: 'ok\n' });
  // --rm left no container behind.
  expect(ok(run('npx', ['--offline', 'ts-container', '--root', stateRoot, 'list', '-q'], { cwd: project, env })).trim()).toBe('');
}

beforeAll(async () => {
  work = tempDir('tsc-install-');
  cliInodeBefore = fs.statSync(path.join(ROOT, 'dist', 'cli.js')).ino;
  await packWatchingDist(work);
  tarball = path.join(work, `ts-container-${PACKAGE.version}.tgz`);
  unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  ok(run('tar', ['-xzf', tarball, '-C', unpacked]));
});

afterAll(() => removeTempDirs());

test('npm pack rebuilds dist/ without it ever going missing under a running program', () => {
  expect(distChecks).toBeGreaterThan(100);
  expect(distMisses).toBe(0);
  // The build did run during the pack: dist/cli.js is a new file, and it works.
  expect(fs.statSync(path.join(ROOT, 'dist', 'cli.js')).ino).not.toBe(cliInodeBefore);
  expect(ok(run('node', [path.join(ROOT, 'dist', 'cli.js'), '--version']))).toBe(`ts-container ${PACKAGE.version}\n`);
});

test('the tarball holds the addon and the helper for linux-x64 and linux-arm64, and no build/', () => {
  const listed = ok(run('tar', ['-tzf', tarball])).split('\n');
  for (const arch of Object.keys(ARCH_MACHINES)) {
    for (const file of ['ts_container.node', 'ts-container-helper', 'prebuild.json']) {
      expect(listed).toContain(`package/prebuilds/linux-${arch}/${file}`);
    }
  }
  expect(listed).toContain('package/scripts/install.js');
  expect(listed).toContain('package/dist/cli.js');
  expect(listed.filter((f) => f.startsWith('package/build/'))).toEqual([]);
});

test.each(Object.entries(ARCH_MACHINES))('the linux-%s binaries are for %s, and the addon has the N-API entry point', (arch, machine) => {
  const dir = path.join(unpacked, 'package', 'prebuilds', `linux-${arch}`);
  for (const file of ['ts_container.node', 'ts-container-helper']) {
    expect(ok(run('readelf', ['-h', path.join(dir, file)]))).toContain(`Machine:                           ${machine}`);
  }
  expect(ok(run('readelf', ['-W', '--dyn-syms', path.join(dir, 'ts_container.node')]))).toMatch(/FUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+napi_register_module_v1\b/);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'prebuild.json'), 'utf8'));
  expect(manifest).toMatchObject({ platform: 'linux', arch, libc: 'glibc', glibc: expect.stringMatching(/^2\.\d+$/) });
});

/** The report a helper writes on its control fd for a plan that is not one. */
function answerToBadPlan(command: string, args: string[]): Promise<{ code: number | null; report: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    // A 'pipe' beyond stdio is a socket, both readable and writable.
    const control = child.stdio[3] as Duplex;
    let report = '';
    control.on('data', (d: Buffer) => (report += d.toString('latin1')));
    control.on('error', () => {}); // the helper may close its end first
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, report }));
    control.write('not a plan');
  });
}

const qemuMissing = !fs.existsSync(QEMU) || !fs.existsSync(ARM64_SYSROOT);
(qemuMissing ? test.skip : test)(
  `the arm64 helper answers a bad plan under qemu-user as the x64 helper does${qemuMissing ? ' (skipped: no qemu-user or arm64 libc: apt-get install qemu-user crossbuild-essential-arm64)' : ''}`,
  async () => {
    const prebuilds = path.join(unpacked, 'package', 'prebuilds');
    const x64 = await answerToBadPlan(path.join(prebuilds, 'linux-x64', 'ts-container-helper'), ['0']);
    const arm64 = await answerToBadPlan(QEMU, ['-L', ARM64_SYSROOT, path.join(prebuilds, 'linux-arm64', 'ts-container-helper'), '0']);
    expect(x64.code).toBe(0);
    expect(x64.report).toContain('read plan');
    expect(arm64).toEqual(x64);
  },
);

test('the README states the glibc and libstdc++ the prebuilds need, as measured from their symbols', () => {
  const manifests = Object.keys(ARCH_MACHINES).map(
    (arch) => JSON.parse(fs.readFileSync(path.join(unpacked, 'package', 'prebuilds', `linux-${arch}`, 'prebuild.json'), 'utf8')) as { glibc: string; glibcxx: string },
  );
  const newest = (versions: string[]): string =>
    versions.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).at(-1) as string;
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(`glibc ${newest(manifests.map((m) => m.glibc))} or newer`);
  expect(readme).toContain(`\`GLIBCXX_${newest(manifests.map((m) => m.glibcxx))}\``);
});

test('installs into a fresh project with no compiler on PATH, builds nothing, and runs containers', () => {
  const bin = pathWithoutCompiler(path.join(work, 'bin'));
  const env = { ...process.env, PATH: bin };
  for (const compiler of COMPILERS) {
    expect(run('sh', ['-c', `command -v ${compiler}`], { env }).status).not.toBe(0);
  }
  const project = freshProject(path.join(work, 'fresh'));
  const install = npmCiOffline(project, env);
  expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr }).toEqual({ status: 0, stderr: '' });
  expect(install.stdout).toContain(`ts-container: using the prebuilt binaries for linux-${process.arch}`);
  const installed = path.join(project, 'node_modules', 'ts-container');
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
  expect(filesUnder(installed).filter((f) => /\.(o|a)$/.test(f))).toEqual([]);
  runsContainers(project, env);
});

const nodeHeaders = path.resolve(path.dirname(process.execPath), '..');
const noHeaders = !fs.existsSync(path.join(nodeHeaders, 'include', 'node', 'node_api.h'));
(noHeaders ? test.skip : test)(
  `TS_CONTAINER_BUILD_FROM_SOURCE=1 builds with node-gyp, and that build runs containers${noHeaders ? ' (skipped: no Node headers beside node, and node-gyp may not download them here)' : ''}`,
  () => {
    // The headers of the running node, so node-gyp downloads nothing.
    const env = { ...process.env, TS_CONTAINER_BUILD_FROM_SOURCE: '1', npm_config_nodedir: nodeHeaders };
    const project = freshProject(path.join(work, 'from-source'));
    const install = npmCiOffline(project, env);
    expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr }).toEqual({ status: 0, stderr: '' });
    expect(install.stdout).toContain('ts-container: building from source (TS_CONTAINER_BUILD_FROM_SOURCE is set)');
    const installed = path.join(project, 'node_modules', 'ts-container');
    expect(fs.existsSync(path.join(installed, 'build', 'Release', 'ts_container.node'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'build', 'Release', 'ts-container-helper'))).toBe(true);
    // Without the prebuilds, what runs is what node-gyp built.
    fs.rmSync(path.join(installed, 'prebuilds'), { recursive: true });
    runsContainers(project, env);
  },
);
