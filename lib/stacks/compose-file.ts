/**
 * Reading a compose file: which file (compose.yaml, compose.yml, docker-compose.yml,
 * docker-compose.yaml in a directory, as compose looks), its YAML, and compose's variable
 * interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, $VAR, $$) from this process's
 * environment and, under it, the `.env` file beside the compose file (as compose reads it:
 * KEY=VALUE lines, # comments, values optionally quoted). Problems are StackFileErrors naming
 * the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { StackFileError } from '../errors/errors';

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

/** The compose file of a directory, as compose picks it; StackFileError when none is there. */
export function findComposeFile(directory: string): string {
  for (const name of DEFAULT_FILES) {
    const file = path.join(directory, name);
    if (fs.existsSync(file)) return file;
  }
  throw new StackFileError('', `no compose file in ${directory} (looked for ${DEFAULT_FILES.join(', ')})`);
}

/** The variables of a `.env` file; none when there is no such file. */
export function readDotEnv(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StackFileError('', `cannot be read (${(error as NodeJS.ErrnoException).code})`, file);
  }
  const variables: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new StackFileError('', `line ${i + 1}: expected KEY=VALUE, got ${JSON.stringify(line)}`, file);
    const [, key, rest] = match;
    const quoted = /^(['"])(.*)\1$/.exec(rest);
    // Unquoted, a " #" starts a comment.
    variables[key] = quoted ? (quoted[1] === '"' ? quoted[2].replace(/\\n/g, '\n') : quoted[2]) : rest.replace(/\s+#.*$/, '');
  });
  return variables;
}

/** The file's description, interpolated; not yet checked (normalize.ts does that). */
export function readComposeFile(file: string, env: NodeJS.ProcessEnv = { ...readDotEnv(path.join(path.dirname(file), '.env')), ...process.env }): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StackFileError('', code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`, file);
  }
  const document = parseDocument(text, { uniqueKeys: true, merge: true });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const line = first.linePos?.[0];
    throw new StackFileError('', `not valid YAML${line ? ` (line ${line.line}, column ${line.col})` : ''}: ${first.message.split('\n')[0]}`, file);
  }
  // Merge keys (<<) and anchors as compose reads them.
  const value = document.toJS({ maxAliasCount: 1000 }) as unknown;
  return interpolate(value, env, file, '');
}

function interpolate(value: unknown, env: NodeJS.ProcessEnv, file: string, where: string): unknown {
  if (typeof value === 'string') return interpolateString(value, env, file, where);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, file, `${where}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, file, where ? `${where}.${k}` : k)]));
  }
  return value;
}

const VARIABLE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{[^}]*\}?))/g;

function interpolateString(text: string, env: NodeJS.ProcessEnv, file: string, where: string): string {
  return text.replace(VARIABLE, (match, braced?: string, operator?: string, argument?: string, bare?: string, bad?: string) => {
    if (match === '$$') return '$';
    if (bad !== undefined) throw new StackFileError(where, `invalid interpolation ${JSON.stringify(match)}`, file);
    const name = (braced ?? bare) as string;
    const value = env[name];
    const unsetOrEmpty = value === undefined || (operator?.startsWith(':') && value === '');
    if (operator === ':-' || operator === '-') return unsetOrEmpty ? (argument ?? '') : (value as string);
    if (operator === ':?' || operator === '?') {
      if (unsetOrEmpty) throw new StackFileError(where, `required variable ${name} is missing${argument ? `: ${argument}` : ''}`, file);
      return value as string;
    }
    return value ?? '';
  });
}
