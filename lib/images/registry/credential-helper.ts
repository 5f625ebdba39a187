/**
 * Docker's credential helper protocol: `docker-credential-NAME get` reads the server's name on
 * stdin and writes `{"ServerURL","Username","Secret"}` on stdout; the username "<token>" means
 * the secret is an identity token (an OAuth2 refresh token), not a password. A helper that
 * has nothing for the server says so ("credentials not found") and exits non-zero: that is no
 * credentials, not an error. Every other failure is a RegistryError naming the helper.
 */
import { spawn } from 'node:child_process';
import { RegistryError } from '../../errors/errors';
import type { RegistryCredentials } from './credentials';

/** What a helper may take before it counts as hung (a helper may unlock a keyring, not wait forever). */
const HELPER_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;
/** docker-credential-helpers' own text for a missing entry (credentials.NewErrCredentialsNotFound). */
const NOT_FOUND = /credentials not found/i;
/** The username a helper returns with an identity token. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

export interface HelperCall {
  /** NAME in docker-credential-NAME. */
  helper: string;
  /** What the helper is asked about: the registry as docker names it to helpers. */
  server: string;
  /** Where the helper was configured, for the error messages ("credHelpers of ... in FILE"). */
  configuredBy: string;
  /** The environment the helper runs with (its PATH finds the helper). */
  env: NodeJS.ProcessEnv;
}

interface HelperOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runHelper(program: string, call: HelperCall): Promise<HelperOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: call.env, stdio: ['pipe', 'pipe', 'pipe'] });
    // Our own timer, not spawn's `timeout`: that one stays armed when the spawn itself fails
    // (a helper not on PATH) and holds the event loop for its whole length.
    const timer = setTimeout(() => child.kill('SIGTERM'), HELPER_TIMEOUT_MS);
    timer.unref();
    let stdout = '';
    let stderr = '';
    let size = 0;
    const take = (sink: 'out' | 'err') => (data: Buffer) => {
      size += data.length;
      if (size > MAX_OUTPUT_BYTES) {
        child.kill('SIGKILL');
        return;
      }
      if (sink === 'out') stdout += data.toString('utf8');
      else stderr += data.toString('utf8');
    };
    child.stdout.on('data', take('out'));
    child.stderr.on('data', take('err'));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // A helper that exits without reading its stdin makes the write fail with EPIPE: its exit says more.
    child.stdin.on('error', () => {});
    child.stdin.end(`${call.server}\n`);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The credentials a helper holds for `call.server`, or undefined when it has none. */
export async function credentialsFromHelper(call: HelperCall): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${call.helper}`;
  const where = `${program} (${call.configuredBy})`;
  if (!/^[A-Za-z0-9._-]+$/.test(call.helper)) throw new RegistryError(`${where}: "${call.helper}" is not a credential helper name`);
  let output: HelperOutput;
  try {
    output = await runHelper(program, call);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new RegistryError(`credential helper ${program} is not installed: not found on PATH (it is named by ${call.configuredBy})`, undefined, { cause: error });
    }
    throw new RegistryError(`${where}: cannot run it: ${(error as Error).message}`, undefined, { cause: error });
  }
  const said = (output.stdout.trim() || output.stderr.trim()).slice(0, 500);
  if (output.code !== 0) {
    if (NOT_FOUND.test(output.stdout) || NOT_FOUND.test(output.stderr)) return undefined;
    const how = output.signal ? `was killed by ${output.signal}${output.signal === 'SIGTERM' ? ' (timed out)' : ''}` : `exited with status ${output.code}`;
    throw new RegistryError(`${where} ${how} asked for ${call.server}${said ? `: ${said}` : ''}`);
  }
  let reply: { Username?: unknown; Secret?: unknown };
  try {
    reply = JSON.parse(output.stdout);
  } catch {
    throw new RegistryError(`${where} answered for ${call.server} with something other than JSON: ${said}`);
  }
  if (typeof reply?.Username !== 'string' || typeof reply.Secret !== 'string') {
    throw new RegistryError(`${where} answered for ${call.server} without a string Username and Secret`);
  }
  if (reply.Username === IDENTITY_TOKEN_USERNAME) return { username: '', password: '', identityToken: reply.Secret };
  return { username: reply.Username, password: reply.Secret };
}
