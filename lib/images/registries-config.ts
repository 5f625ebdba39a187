/**
 * Which registries a short name may come from, and which may be spoken to over plain HTTP:
 * <dataRoot>/registries.json, or the ImageStore option `registries` (which wins, key by key).
 *
 *   { "unqualified-search-registries": ["127.0.0.1:5000", "registry.example"],
 *     "insecure-registries": ["build-box:5000"] }
 *
 * Without either, a short name resolves to no registry at all: ts-container never guesses a
 * public one. localhost and 127.0.0.0/8 may use plain HTTP without being listed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRegistryHost } from './reference';

export interface RegistriesConfig {
  /** Where a short name is looked for, in order. */
  search: string[];
  /** Registries (host[:port]) that may be spoken to over plain HTTP. */
  insecure: string[];
}

export interface RegistriesOption {
  search?: string[];
  insecure?: string[];
}

export const REGISTRIES_FILE = 'registries.json';

function registryList(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw new TypeError(`${where}: expected a list of registries (host[:port])`);
  value.forEach((entry, i) => {
    if (!isRegistryHost(entry)) throw new TypeError(`${where}[${i}]: ${JSON.stringify(entry)} is not a registry host[:port]`);
  });
  return [...(value as string[])];
}

/** Checks the option's shape; a TypeError naming `registries.<key>` otherwise. */
export function validateRegistriesOption(option: unknown): RegistriesOption {
  if (option === undefined) return {};
  if (typeof option !== 'object' || option === null || Array.isArray(option)) throw new TypeError('registries: expected { search?, insecure? }');
  const { search, insecure, ...rest } = option as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new TypeError(`registries.${unknown[0]}: not an option (search, insecure)`);
  const out: RegistriesOption = {};
  if (search !== undefined) out.search = registryList(search, 'registries.search');
  if (insecure !== undefined) out.insecure = registryList(insecure, 'registries.insecure');
  return out;
}

/** The file's lists (empty when there is no file), with the option's on top. */
export async function loadRegistriesConfig(dataRoot: string, option: RegistriesOption = {}): Promise<RegistriesConfig> {
  const file = path.join(dataRoot, REGISTRIES_FILE);
  let fromFile: RegistriesConfig = { search: [], insecure: [] };
  if (option.search === undefined || option.insecure === undefined) {
    let text: string | undefined;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new TypeError(`${file}: not valid JSON (${(error as Error).message})`);
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TypeError(`${file}: expected a JSON object`);
      const record = json as Record<string, unknown>;
      const search = record['unqualified-search-registries'];
      const insecure = record['insecure-registries'];
      fromFile = {
        search: search === undefined ? [] : registryList(search, `${file}: unqualified-search-registries`),
        insecure: insecure === undefined ? [] : registryList(insecure, `${file}: insecure-registries`),
      };
    }
  }
  return { search: option.search ?? fromFile.search, insecure: option.insecure ?? fromFile.insecure };
}
