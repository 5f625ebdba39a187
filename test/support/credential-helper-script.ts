/**
 * A docker credential helper for tests: `docker-credential-NAME` written as a shell script
 * into a directory the test puts on PATH. It answers `get` from a fixed table (server ->
 * {Username, Secret}), says "credentials not found" for other servers as the real helpers do,
 * and appends each server it was asked about to a log the test reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TestCredentialHelper {
  /** The directory holding the script: put it first on PATH. */
  binDir: string;
  /** The servers the helper was asked about, in order. */
  asked(): string[];
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function writeCredentialHelper(dir: string, name: string, table: Record<string, { Username: string; Secret: string }>): TestCredentialHelper {
  const binDir = path.join(dir, 'bin');
  fs.mkdirSync(binDir, { recursive: true });
  const log = path.join(dir, `docker-credential-${name}.log`);
  const cases = Object.entries(table)
    .map(([server, reply]) => `  ${shellQuote(server)}) printf '%s\\n' ${shellQuote(JSON.stringify({ ServerURL: server, ...reply }))} ;;`)
    .join('\n');
  const script = [
    '#!/bin/sh',
    `[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 2; }`,
    'read -r server',
    `printf '%s\\n' "$server" >> ${shellQuote(log)}`,
    'case "$server" in',
    cases,
    '  *) echo "credentials not found in native keychain"; exit 1 ;;',
    'esac',
    '',
  ].join('\n');
  const file = path.join(binDir, `docker-credential-${name}`);
  fs.writeFileSync(file, script, { mode: 0o755 });
  return {
    binDir,
    asked: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}
