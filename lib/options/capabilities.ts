/** The capability set a container keeps: Docker's defaults, plus `add`, minus `drop`. */
import type { CapabilityOptions } from './types';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './defaults';
import { fail } from './option-error';

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN. */
function canonicalName(value: unknown, where: string): string {
  if (typeof value !== 'string') fail(where, `expected a capability name, got ${typeof value}`);
  const upper = value.toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!(ALL_CAPABILITIES as readonly string[]).includes(name)) fail(where, `unknown capability ${JSON.stringify(value)}`);
  return name;
}

function checkList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(where, 'expected an array of capability names');
  return value.map((v, i) => canonicalName(v, `${where}[${i}]`));
}

export function normalizeCapabilities(options: CapabilityOptions | undefined): string[] {
  if (options === undefined) return [...DEFAULT_CAPABILITIES];
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail('capabilities', 'expected { add?, drop? }');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'add' && key !== 'drop') fail(`capabilities.${key}`, 'unknown option (expected add or drop)');
  }
  const add = checkList(options.add, 'capabilities.add');
  const drop = checkList(options.drop, 'capabilities.drop');
  const kept = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  for (const name of drop) kept.delete(name);
  for (const name of add) {
    if (name === 'ALL') ALL_CAPABILITIES.forEach((c) => kept.add(c));
    else kept.add(name);
  }
  return ALL_CAPABILITIES.filter((c) => kept.has(c));
}
