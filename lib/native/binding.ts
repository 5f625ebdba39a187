/**
 * Loads the addon and finds the helper executable beside it. Both come from the one
 * binding.gyp build: in build/Release when this machine built them (a checkout, or an install
 * where no prebuild fitted), else in the package's prebuilds/linux-<arch> (the prebuilt pair
 * scripts/install.js chose). One directory holds both, so the helper always matches the addon.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { NativeBinding } from '../../types/native';

// This file runs from dist/ after tsup, and as lib/native/binding.ts from source (tests, tsx).
const PACKAGE_ROOT = path.basename(__dirname) === 'dist' ? path.dirname(__dirname) : path.resolve(__dirname, '..', '..');
const BUILD_DIRS = [
  path.join(PACKAGE_ROOT, 'build', 'Release'),
  path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`),
];

function findBuildDir(): string {
  for (const dir of BUILD_DIRS) {
    if (fs.existsSync(path.join(dir, 'ts_container.node')) && fs.existsSync(path.join(dir, 'ts-container-helper'))) {
      return dir;
    }
  }
  throw new Error(
    `ts-container: no native build found (looked in ${BUILD_DIRS.join(', ')}). ` +
      'Reinstall ts-container: it uses a prebuild for linux x64/arm64 with glibc, ' +
      'or builds with node-gyp (which needs python3, make and g++).',
  );
}

let cached: { binding: NativeBinding; helperPath: string } | undefined;

function load(): { binding: NativeBinding; helperPath: string } {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new Error(`ts-container runs Linux containers; this is ${process.platform}`);
  }
  const dir = findBuildDir();
  // createRequire works the same from the CommonJS and the ESM build.
  const requireFromBuild = createRequire(path.join(dir, 'loader.js'));
  const binding = requireFromBuild('./ts_container.node') as NativeBinding;
  cached = { binding, helperPath: path.join(dir, 'ts-container-helper') };
  return cached;
}

export function native(): NativeBinding {
  return load().binding;
}

export function helperPath(): string {
  return load().helperPath;
}

/** The pid of this process's setup server, or -1 before its first container or exec (for tests). */
export function helperServerPid(): number {
  return native().helperServerPid();
}
