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

/** What decides whether a prebuild fits: this machine, unless a test names another. */
function thisMachine() {
  return {
    root,
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    // Node reports the C library it runs on; musl (Alpine) has no glibc version.
    glibc: process.report ? process.report.getReport().header.glibcVersionRuntime : undefined,
  };
}

/** Why the prebuild for a machine cannot be used, or null when it fits. */
function whyNoPrebuild(machine = thisMachine()) {
  const flag = machine.env.TS_CONTAINER_BUILD_FROM_SOURCE;
  if (flag && flag !== '0' && flag !== 'false') return 'TS_CONTAINER_BUILD_FROM_SOURCE is set';
  if (fs.existsSync(path.join(machine.root, '.git'))) return 'this is a git checkout';
  if (machine.platform !== 'linux') return `no prebuild for ${machine.platform}`;
  const name = `linux-${machine.arch}`;
  const dir = path.join(machine.root, 'prebuilds', name);
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'prebuild.json'), 'utf8'));
  } catch {
    return `no prebuild for ${name}`;
  }
  for (const file of ['ts_container.node', 'ts-container-helper']) {
    if (!fs.existsSync(path.join(dir, file))) return `the ${name} prebuild has no ${file}`;
  }
  if (!machine.glibc) return 'this C library is not glibc';
  if (manifest.glibc && compareVersions(machine.glibc, manifest.glibc) < 0) {
    return `glibc ${machine.glibc} is older than the ${manifest.glibc} the prebuild needs`;
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

module.exports = { whyNoPrebuild };

if (require.main === module) process.exitCode = main();
