/**
 * Loads the addon and finds the helper executable built beside it. Both come
 * from the one binding.gyp build, in build/Release of the package.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { NativeBinding } from '../../types/native';

const BUILD_DIRS = [
  // lib/native/*.ts run from source (tests, tsx) and dist/*.js after tsup.
  path.resolve(__dirname, '..', '..', 'build', 'Release'),
  path.resolve(__dirname, '..', 'build', 'Release'),
];

function findBuildDir(): string {
  for (const dir of BUILD_DIRS) {
    if (fs.existsSync(path.join(dir, 'ts_container.node'))) return dir;
  }
  throw new Error(
    `ts-container: the native addon is not built (looked in ${BUILD_DIRS.join(', ')}). ` +
      'Run `npm install` (it runs node-gyp; it needs python3, make and g++).',
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
