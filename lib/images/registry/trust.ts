/**
 * The certificate authorities a registry's TLS certificate may chain to: Node's own roots, the
 * system bundle, and the registry's own CA files under <dataRoot>/certs.d/HOST/ (as podman's
 * certs.d: HOST is the registry as references name it, with its port), so that a private or
 * test CA is trusted for its registry alone.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';

export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every *.crt in certs.d/<registry>/ (ca.crt first, as the issue names it). */
function registryCaFiles(dataRoot: string, registry: string): string[] {
  const dir = path.join(dataRoot, 'certs.d', registry);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => name.endsWith('.crt'))
    .sort((a, b) => (a === 'ca.crt' ? -1 : b === 'ca.crt' ? 1 : a.localeCompare(b)))
    .map((name) => path.join(dir, name));
}

/** The CA list for TLS to `registry`; `dataRoot` absent means no certs.d. */
export function trustedCas(registry: string, dataRoot?: string): string[] {
  const cas: string[] = [...tls.rootCertificates];
  const system = readIfPresent(SYSTEM_CA_BUNDLE);
  if (system) cas.push(system);
  if (dataRoot) {
    for (const file of registryCaFiles(dataRoot, registry)) cas.push(fs.readFileSync(file, 'utf8'));
  }
  return cas;
}

/** Secure contexts by the CA list they trust: parsing a few hundred roots costs ~100 ms a time. */
const contexts = new Map<string, tls.SecureContext>();
const MAX_CONTEXTS = 16;

/** A TLS context trusting exactly `cas`, made once per process for each distinct list. */
export function secureContextFor(cas: string[]): tls.SecureContext {
  const key = crypto.createHash('sha256').update(cas.join('\0')).digest('hex');
  let context = contexts.get(key);
  if (!context) {
    context = tls.createSecureContext({ ca: cas });
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
    contexts.set(key, context);
  }
  return context;
}
