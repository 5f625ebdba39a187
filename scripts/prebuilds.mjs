#!/usr/bin/env node
// Builds the prebuilt binaries the package ships: for each of linux-x64 and linux-arm64, the
// addon (ts_container.node) and the helper executable (ts-container-helper: setup, monitor and
// pod pause program in one) side by side in prebuilds/linux-<arch>/, with a prebuild.json that
// says what they need (the highest GLIBC_ and GLIBCXX_ symbol versions they reference, read
// from the binaries themselves). scripts/install.js reads it to decide whether a prebuild fits.
//
// Run: npm run build:prebuilds [-- --if-stale] [-- --arch x64|arm64]
//   --if-stale  skips an arch whose prebuild.json names the same sources (npm pack runs this).
//
// Each arch builds in a temp copy of binding.gyp and native/, so the checkout's own build/
// (what tests and `npx ts-container` use) is never touched. x64 builds with the host's g++;
// arm64 is cross-built with Debian's crossbuild-essential-arm64 (aarch64-linux-gnu-g++) and
// checked under qemu-user: its helper must answer a bad plan exactly as the x64 helper does,
// and its native unit tests must pass. An arm64 addon needs an arm64 Node to load, so it is
// checked by its ELF header and its N-API entry point.
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADDON = 'ts_container.node';
const HELPER = 'ts-container-helper';
const NATIVE_TESTS = 'ts-container-native-tests';

const ARCHES = {
  x64: { machine: 'Advanced Micro Devices X86-64', tools: '' },
  arm64: { machine: 'AArch64', tools: 'aarch64-linux-gnu-', qemu: 'qemu-aarch64', sysroot: '/usr/aarch64-linux-gnu' },
};

function parseArgs(argv) {
  const options = { ifStale: false, arches: Object.keys(ARCHES) };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--if-stale') options.ifStale = true;
    else if (argv[i] === '--arch' && ARCHES[argv[i + 1]]) options.arches = [argv[++i]];
    else throw new Error(`prebuilds: unknown argument ${argv[i]} (--if-stale, --arch x64|arm64)`);
  }
  return options;
}

/** Everything the native build reads: a prebuild made from other sources is stale. */
function sourcesHash() {
  const hash = createHash('sha256');
  const files = ['binding.gyp', 'scripts/prebuilds.mjs', 'node_modules/node-addon-api/package.json'];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  walk('native');
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
  }
  return hash.digest('hex');
}

/** node-gyp: the one npm runs scripts with, else the one npm bundles beside this node. */
function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) throw new Error('prebuilds: node-gyp not found (it comes with npm)');
  return found;
}

/** The headers of the running Node when they are installed beside it: no download. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`prebuilds: ${command} ${args.join(' ')} ended with ${signal ?? code}`)),
    );
  });
}

/** A binary's answer to a plan that is not one: the report the helper writes on fd 3. */
export function helperAnswerToBadPlan(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    const chunks = [];
    child.stdio[3].on('data', (d) => chunks.push(d));
    // The helper may close its end before it reads all that was sent: that is an answer too.
    child.stdio[3].on('error', () => {});
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, report: Buffer.concat(chunks).toString('latin1') }));
    child.stdio[3].write('not a plan');
  });
}

function highestVersion(text, prefix) {
  const versions = [...text.matchAll(new RegExp(`@${prefix}_([0-9]+(?:\\.[0-9]+)*)`, 'g'))].map((m) => m[1]);
  const key = (v) => v.split('.').map(Number);
  versions.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
  return versions.at(-1) ?? null;
}

/** What the ELF files say: their machine, the N-API entry point, and the symbol versions they need. */
function inspectBinaries(dir, arch) {
  let symbols = '';
  for (const file of [ADDON, HELPER]) {
    const header = execFileSync('readelf', ['-h', path.join(dir, file)], { encoding: 'utf8' });
    if (!header.includes(ARCHES[arch].machine)) throw new Error(`prebuilds: ${file} for ${arch} is not ${ARCHES[arch].machine}`);
    symbols += execFileSync('readelf', ['-W', '--dyn-syms', path.join(dir, file)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  }
  const addonSymbols = execFileSync('readelf', ['-W', '--dyn-syms', path.join(dir, ADDON)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (!/\sFUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+napi_register_module_v1\b/.test(addonSymbols)) {
    throw new Error(`prebuilds: ${ADDON} for ${arch} does not define napi_register_module_v1`);
  }
  return { glibc: highestVersion(symbols, 'GLIBC'), glibcxx: highestVersion(symbols, 'GLIBCXX') };
}

async function buildArch(arch, hash) {
  const spec = ARCHES[arch];
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), `ts-container-prebuild-${arch}-`));
  try {
    fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(stage, 'binding.gyp'));
    fs.cpSync(path.join(root, 'native'), path.join(stage, 'native'), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));
    const env = { ...process.env };
    if (spec.tools) {
      Object.assign(env, { CC: `${spec.tools}gcc`, CXX: `${spec.tools}g++`, LINK: `${spec.tools}g++`, AR: `${spec.tools}ar` });
    }
    const dir = nodeDir();
    const gypArgs = [nodeGypScript(), 'rebuild', `--arch=${arch}`, '--jobs=2', ...(dir ? [`--nodedir=${dir}`] : [])];
    console.log(`prebuilds: building linux-${arch} in ${stage}`);
    await run(process.execPath, gypArgs, { cwd: stage, env });
    const built = path.join(stage, 'build', 'Release');
    for (const file of [ADDON, HELPER]) {
      execFileSync(`${spec.tools}strip`, ['--strip-unneeded', path.join(built, file)]);
    }
    const needs = inspectBinaries(built, arch);
    await smokeTest(arch, built);
    const out = path.join(root, 'prebuilds', `linux-${arch}`);
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    for (const file of [ADDON, HELPER]) fs.copyFileSync(path.join(built, file), path.join(out, file));
    fs.chmodSync(path.join(out, HELPER), 0o755);
    const manifest = { platform: 'linux', arch, libc: 'glibc', ...needs, napiVersion: 8, sources: hash };
    fs.writeFileSync(path.join(out, 'prebuild.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`prebuilds: linux-${arch} needs glibc ${needs.glibc}, libstdc++ GLIBCXX_${needs.glibcxx}`);
  } finally {
    if (process.env.TS_CONTAINER_KEEP_PREBUILD_STAGE) console.log(`prebuilds: kept ${stage}`);
    else fs.rmSync(stage, { recursive: true, force: true });
  }
}

/** The binaries run: natively for x64, under qemu-user for arm64. */
async function smokeTest(arch, built) {
  const spec = ARCHES[arch];
  const helper = path.join(built, HELPER);
  const tests = path.join(built, NATIVE_TESTS);
  const wrap = (file, args) => (spec.qemu ? [spec.qemu, ['-L', spec.sysroot, file, ...args]] : [file, args]);
  const answer = await helperAnswerToBadPlan(...wrap(helper, ['0']));
  if (answer.code !== 0 || !answer.report.includes('read plan')) {
    throw new Error(`prebuilds: the linux-${arch} helper did not answer a bad plan (${JSON.stringify(answer)})`);
  }
  await run(...wrap(tests, []), { stdio: ['ignore', 'ignore', 'inherit'] });
  if (arch === process.arch) {
    const probe = `const b=require(${JSON.stringify(path.join(built, ADDON))});if(typeof b.startHelper!=='function')process.exit(1)`;
    await run(process.execPath, ['-e', probe]);
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const hash = sourcesHash();
  for (const arch of options.arches) {
    const manifestPath = path.join(root, 'prebuilds', `linux-${arch}`, 'prebuild.json');
    if (options.ifStale && fs.existsSync(manifestPath) && JSON.parse(fs.readFileSync(manifestPath, 'utf8')).sources === hash) {
      console.log(`prebuilds: linux-${arch} is up to date`);
      continue;
    }
    await buildArch(arch, hash);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
