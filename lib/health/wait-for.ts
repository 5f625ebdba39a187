/**
 * waitFor(): what a test or a stack waits for before it uses a service container, as
 * testcontainers' wait strategies: a log line, a listening port, an HTTP answer, a healthy
 * status. Ports and HTTP are looked at from inside the container's network namespace, so
 * nothing needs publishing to the host.
 */
import type { Container } from '../container/container';
import type { ContainerContext } from '../container/context';
import { ContainerStoppedError, WaitForTimeoutError } from '../errors/errors';
import { fail } from '../options/option-error';
import { portListens } from './listening-ports';
import { probeHttp } from './http-probe';

export type WaitForCondition = (
  | { /** A line of its output (stdout or stderr) matches; a string matches as a substring. */ log: RegExp | string }
  | { /** A TCP port listens inside its network namespace. */ port: number }
  | { /** A GET of http://127.0.0.1:port/path from inside its network namespace answers with `status` (default 200). */ http: { port: number; path?: string; status?: number } }
  | { /** health() says 'healthy'. */ healthy: true }
) & {
  /** Milliseconds before it rejects with WaitForTimeoutError; default 60000. */
  timeout?: number;
};

export const DEFAULT_WAIT_FOR_TIMEOUT_MS = 60_000;
/** How often a port, a status or whether the container still runs is looked at. */
const POLL_MS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkPort(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) fail(where, `expected a TCP port from 1 to 65535, got ${JSON.stringify(value) ?? String(value)}`);
  return value;
}

type Checked =
  | { kind: 'log'; pattern: RegExp | string; text: string }
  | { kind: 'port'; port: number; text: string }
  | { kind: 'http'; port: number; path: string; status: number; text: string }
  | { kind: 'healthy'; text: string };

function checkCondition(condition: unknown, context: ContainerContext): { checked: Checked; timeout: number } {
  if (typeof condition !== 'object' || condition === null) fail('waitFor', 'expected { log } | { port } | { http } | { healthy: true }, with an optional timeout');
  const c = condition as Record<string, unknown>;
  const kinds = ['log', 'port', 'http', 'healthy'].filter((k) => k in c);
  for (const key of Object.keys(c)) if (![...kinds, 'timeout'].includes(key)) fail(`waitFor.${key}`, 'unknown option (expected one of log, port, http, healthy, timeout)');
  if (kinds.length !== 1) fail('waitFor', `expected exactly one of log, port, http, healthy; got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`);
  let timeout = DEFAULT_WAIT_FOR_TIMEOUT_MS;
  if (c.timeout !== undefined) {
    if (typeof c.timeout !== 'number' || !(c.timeout > 0) || !Number.isFinite(c.timeout)) fail('waitFor.timeout', `expected milliseconds (a positive number), got ${JSON.stringify(c.timeout) ?? String(c.timeout)}`);
    timeout = c.timeout;
  }
  let checked: Checked;
  switch (kinds[0]) {
    case 'log': {
      const pattern = c.log;
      if (!(pattern instanceof RegExp) && (typeof pattern !== 'string' || pattern === '')) fail('waitFor.log', 'expected a RegExp or a non-empty string');
      checked = { kind: 'log', pattern, text: `a log line matching ${pattern instanceof RegExp ? String(pattern) : JSON.stringify(pattern)}` };
      break;
    }
    case 'port': {
      const port = checkPort(c.port, 'waitFor.port');
      checked = { kind: 'port', port, text: `port ${port} to listen` };
      break;
    }
    case 'http': {
      const h = c.http as Record<string, unknown> | null;
      if (typeof h !== 'object' || h === null) fail('waitFor.http', 'expected { port, path?, status? }');
      const port = checkPort(h.port, 'waitFor.http.port');
      const path = h.path ?? '/';
      if (typeof path !== 'string' || !path.startsWith('/') || /[\s\0]/.test(path)) fail('waitFor.http.path', `expected a path starting with "/", got ${JSON.stringify(path)}`);
      const status = h.status ?? 200;
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) fail('waitFor.http.status', `expected an HTTP status from 100 to 599, got ${JSON.stringify(status)}`);
      checked = { kind: 'http', port, path, status, text: `HTTP ${status} from GET http://127.0.0.1:${port}${path}` };
      break;
    }
    default: {
      if (c.healthy !== true) fail('waitFor.healthy', 'expected true');
      if (context.config.healthcheck === null) fail('waitFor.healthy', 'the container has no healthcheck (the option, or its image\'s)');
      checked = { kind: 'healthy', text: 'a healthy status' };
    }
  }
  return { checked, timeout };
}

/**
 * The main process's pid once there is one (undefined while the container is still being
 * made); ContainerStoppedError once it has stopped.
 */
async function mainPid(container: Container): Promise<number | undefined> {
  const state = await container.state();
  if (state.status === 'stopped') throw new ContainerStoppedError(container.id, 'wait for it');
  return state.pid > 0 ? state.pid : undefined;
}

/** Whether one line of output (or what has come of it) matches. */
function matches(pattern: RegExp | string, line: string): boolean {
  if (typeof pattern === 'string') return line.includes(pattern);
  pattern.lastIndex = 0;
  return pattern.test(line);
}

async function waitForLog(container: Container, pattern: RegExp | string, signal: AbortSignal): Promise<void> {
  const pending = { stdout: '', stderr: '' };
  for await (const record of container.logs({ follow: true, signal })) {
    if (record.stream === 'dropped') continue;
    const lines = (pending[record.stream] + record.data.toString('utf8')).split('\n');
    pending[record.stream] = lines.pop() ?? '';
    if (lines.some((line) => matches(pattern, line)) || matches(pattern, pending[record.stream])) return;
  }
  if (signal.aborted) return;
  throw new ContainerStoppedError(container.id, 'wait for its log');
}

async function waitForPort(container: Container, port: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const pid = await mainPid(container);
    if (pid !== undefined && (await portListens(pid, port))) return;
    await sleep(POLL_MS);
  }
}

async function waitForHttp(
  container: Container,
  request: { port: number; path: string; status: number; deadline: number },
  signal: AbortSignal,
  seen: { last: string },
): Promise<void> {
  let pid = await mainPid(container);
  while (pid === undefined && !signal.aborted) {
    await sleep(POLL_MS);
    pid = await mainPid(container);
  }
  if (pid === undefined) return;
  // A second past the deadline: the wait stops it before; this is for a caller that died.
  const probe = probeHttp(pid, request.port, request.path, request.status, request.deadline - Date.now() + 1000);
  const stopped = () => probe.stop();
  signal.addEventListener('abort', stopped, { once: true });
  try {
    // The probe ends with its namespace's last process, too: a stopped container is said as such.
    for (;;) {
      const outcome = await Promise.race([probe.done.then(() => 'ok' as const), sleep(POLL_MS).then(() => 'poll' as const)]);
      seen.last = probe.lastSeen();
      if (outcome === 'ok' || signal.aborted) return;
      await mainPid(container);
    }
  } finally {
    probe.stop();
    signal.removeEventListener('abort', stopped);
  }
}

async function waitForHealthy(container: Container, signal: AbortSignal, seen: { last: string }): Promise<void> {
  while (!signal.aborted) {
    const health = await container.health();
    seen.last = `status ${health.status}`;
    if (health.status === 'healthy') return;
    await mainPid(container);
    await sleep(POLL_MS);
  }
}

export async function waitFor(container: Container, context: ContainerContext, condition: WaitForCondition): Promise<void> {
  const { checked, timeout } = checkCondition(condition, context);
  const controller = new AbortController();
  const seen = { last: '' };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeout);
  });
  const waiting = (async () => {
    switch (checked.kind) {
      case 'log': return waitForLog(container, checked.pattern, controller.signal);
      case 'port': return waitForPort(container, checked.port, controller.signal);
      case 'http': return waitForHttp(container, { ...checked, deadline: Date.now() + timeout }, controller.signal, seen);
      case 'healthy': return waitForHealthy(container, controller.signal, seen);
    }
  })();
  try {
    const outcome = await Promise.race([waiting.then(() => 'done' as const), timedOut]);
    if (outcome === 'timeout') {
      controller.abort();
      await waiting.catch(() => undefined);
      throw new WaitForTimeoutError(container.id, checked.text + (seen.last ? ` (last seen: ${seen.last})` : ''), timeout);
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
