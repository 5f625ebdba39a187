#!/usr/bin/env node
'use strict';
// npm's install step for ts-container. The package carries prebuilt binaries for linux-x64 and
// linux-arm64 (prebuilds/linux-<arch>/: the addon and the helper executable, and prebuild.json
// saying the glibc they need). When one fits this machine nothing is built; otherwise node-gyp
// builds both from native/ and binding.gyp, which needs python3, make and g++.
//
// A git checkout always builds from source: its tests run the native unit tests and the sources
// as they are. TS_CONTAINER_BUILD_FROM_SOURCE=1 forces the build anywhere.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  }
  return 0;
}

/** Why the prebuild for this machine cannot be used, or null when it fits. */
function whyNoPrebuild() {
  const flag = process.env.TS_CONTAINER_BUILD_FROM_SOURCE;
  if (flag && flag !== '0' && flag !== 'false') return 'TS_CONTAINER_BUILD_FROM_SOURCE is set';
  if (fs.existsSync(path.join(root, '.git'))) return 'this is a git checkout';
  if (process.platform !== 'linux') return `no prebuild for ${process.platform}`;
  const dir = path.join(root, 'prebuilds', `linux-${process.arch}`);
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'prebuild.json'), 'utf8'));
  } catch {
    return `no prebuild for linux-${process.arch}`;
  }
  for (const file of ['ts_container.node', 'ts-container-helper']) {
    if (!fs.existsSync(path.join(dir, file))) return `the linux-${process.arch} prebuild has no ${file}`;
  }
  // Node reports the C library it runs on; musl (Alpine) has no glibc version.
  const glibc = process.report && process.report.getReport().header.glibcVersionRuntime;
  if (!glibc) return 'this C library is not glibc';
  if (manifest.glibc && compareVersions(glibc, manifest.glibc) < 0) {
    return `glibc ${glibc} is older than the ${manifest.glibc} the prebuild needs`;
  }
  return null;
}

function nodeGypCommand() {
  // npm names the node-gyp it bundles in the environment of the scripts it runs.
  const script = process.env.npm_config_node_gyp;
  if (script && fs.existsSync(script)) return [process.execPath, [script]];
  return ['node-gyp', []];
}

function main() {
  const reason = whyNoPrebuild();
  if (!reason) {
    console.log(`ts-container: using the prebuilt binaries for linux-${process.arch}`);
    return 0;
  }
  console.log(`ts-container: building from source (${reason}); this needs python3, make and g++`);
  const [command, args] = nodeGypCommand();
  const result = spawnSync(command, [...args, 'rebuild'], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) return 0;
  console.error(
    `ts-container: the native build failed${result.error ? ` (${result.error.message})` : ''}. ` +
      'It needs python3, make and g++ (Debian/Ubuntu: apt-get install python3 make g++).',
  );
  return result.status || 1;
}

process.exitCode = main();
