/**
 * Volume names and where a volume lives: what option checking needs, without the store's
 * locks and records (volume-store.ts).
 */
import * as path from 'node:path';

/** As docker's volume names: a letter or digit first, then letters, digits, '_', '.', '-'. */
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function isVolumeName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name);
}

export function volumesDir(dataRoot: string): string {
  return path.join(dataRoot, 'volumes');
}

export function volumePath(dataRoot: string, name: string): string {
  return path.join(volumesDir(dataRoot), name);
}

