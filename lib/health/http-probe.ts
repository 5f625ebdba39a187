/**
 * An HTTP GET from inside a container's network namespace, not from the host's: a Node child
 * of this process entered into the namespace (nsenter --net) asks 127.0.0.1:PORT until the
 * answer has the wanted status, and says what it last saw. Only the network namespace is
 * entered: the child still runs Node of the host with the host's files, the container only
 * answers its requests (of which it reads the status line and headers, never the body).
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Between attempts, inside the probe. */
const RETRY_MS = 100;

const PROBE_SCRIPT = `
const http = require('node:http');
const [port, path, wanted, lifetime] = [Number(process.argv[1]), process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
// It holds the container's network namespace: it must not outlive the caller, nor the wait.
const parent = process.ppid;
setTimeout(() => process.exit(3), lifetime).unref();
function attempt() {
  if (process.ppid !== parent) process.exit(2);
  const request = http.get({ host: '127.0.0.1', port, path, timeout: 2000 }, (response) => {
    response.destroy();
    if (response.statusCode === wanted) { process.stdout.write('ok\\n'); process.exit(0); }
    process.stdout.write('status ' + response.statusCode + '\\n');
    setTimeout(attempt, ${RETRY_MS});
  });
  request.on('timeout', () => request.destroy(new Error('no answer in 2 s')));
  request.on('error', (error) => { process.stdout.write((error.code || error.message) + '\\n'); setTimeout(attempt, ${RETRY_MS}); });
}
attempt();
`;

export interface HttpProbe {
  /** Resolves once a GET answered with the wanted status; rejects when the probe could not run. */
  readonly done: Promise<void>;
  /** What the last attempt saw: 'status 503', 'ECONNREFUSED', ... */
  lastSeen(): string;
  stop(): void;
}

/** `lifetime`: ms after which the probe gives up by itself, should nobody stop it. */
export function probeHttp(pid: number, port: number, path: string, status: number, lifetime: number): HttpProbe {
  const args = [String(port), path, String(status), String(Math.ceil(lifetime))];
  const child: ChildProcess = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e', PROBE_SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Only what Node needs: no NODE_OPTIONS of the caller's (a --require would run in the namespace).
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  let last = 'no attempt yet';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    const lines = text.trim().split('\n');
    last = lines[lines.length - 1] ?? last;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-1000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0 && last === 'ok') resolve();
      else reject(new Error(`the HTTP probe in the container's network namespace ended (${code ?? 'signal'}): ${stderr.trim() || last}`));
    });
  });
  // A stop() is not a failure to report.
  done.catch(() => undefined);
  return {
    done,
    lastSeen: () => last,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
