/**
 * waitFor() as a test of a service container uses it (issue 13, readiness): a log line, a port
 * listening inside the container's network namespace, an HTTP answer from inside it, a healthy
 * status; each one's timeout error naming what it waited for; a container that stops first;
 * bad conditions refused. Servers are busybox's (nc, httpd) on the container's own loopback:
 * nothing listens in the host's namespace.
 */
import * as fs from 'node:fs';
import { Container, ContainerStoppedError, WaitForTimeoutError } from '../../lib';
import { useContainers } from '../support/containers';
import { tempDir, removeTempDirs } from '../support/temp-dirs';

const stateRoot = tempDir('tsc-wait-for-');
const { make } = useContainers(() => ({ stateRoot }));

afterAll(() => removeTempDirs());

/** A port for a server inside a container's own network namespace (no other process is there). */
const port = (): number => 20000 + Math.floor(Math.random() * 40000);

/** A web server on the container's loopback serving "hi" at / (404 elsewhere), after a moment. */
function webServer(c: Container, at: number): void {
  c.spawn(['sh', '-c', `mkdir /tmp/www && echo hi > /tmp/www/index.html && sleep 0.3 && exec busybox httpd -f -p 127.0.0.1:${at} -h /tmp/www`]);
}

/** Pids of HTTP probes (lib/health/http-probe.ts) asking this port. */
function probesOf(at: number): string[] {
  return fs.readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.includes("It holds the container's network namespace")) && argv.includes(String(at));
    } catch {
      return false;
    }
  });
}

async function timeoutError(wait: Promise<void>): Promise<WaitForTimeoutError> {
  const error = await wait.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WaitForTimeoutError);
  return error as WaitForTimeoutError;
}

describe('log', () => {
  test('a line that matches (RegExp or substring), also one logged before the call', async () => {
    const c = make({ detach: true });
    c.spawn(['sh', '-c', 'echo starting; sleep 0.3; echo "database system is ready to accept connections" >&2; exec sleep 60']);
    await c.waitFor({ log: /ready to accept/ });
    await c.waitFor({ log: 'starting', timeout: 5000 });
  });

  test("a container that is not detached: what its 'pipe' stdio passed", async () => {
    const c = make();
    const p = c.spawn(['sh', '-c', 'sleep 0.3; echo "listening on :8080"; exec sleep 60'], { stdio: 'pipe' });
    p.stdout?.resume();
    p.stderr?.resume();
    await c.waitFor({ log: 'listening on' });
  });

  test('its timeout error names the pattern', async () => {
    const c = make({ detach: true });
    c.spawn(['sh', '-c', 'echo hello; exec sleep 60']);
    const error = await timeoutError(c.waitFor({ log: /never printed/, timeout: 300 }));
    expect(error).toMatchObject({ code: 'EWAITFORTIMEOUT', id: c.id, timeout: 300 });
    expect(error.message).toMatch(/waited 300 ms for a log line matching \/never printed\//);
  });

  test('a container that stops without printing it: ContainerStoppedError', async () => {
    const c = make({ detach: true });
    c.spawn(['sh', '-c', 'echo something else']);
    await expect(c.waitFor({ log: 'ready', timeout: 30000 })).rejects.toBeInstanceOf(ContainerStoppedError);
  });
});

describe('port', () => {
  test('resolves once the port listens inside the container; another port times out, named', async () => {
    const c = make();
    const at = port();
    c.spawn(['sh', '-c', `sleep 0.3; exec busybox nc -l -p ${at}`]);
    await c.waitFor({ port: at });
    const error = await timeoutError(c.waitFor({ port: at + 1, timeout: 300 }));
    expect(error.condition).toBe(`port ${at + 1} to listen`);
  });

  test('a container that stops first: ContainerStoppedError', async () => {
    const c = make();
    c.spawn(['sh', '-c', 'sleep 0.2']);
    await expect(c.waitFor({ port: port(), timeout: 30000 })).rejects.toBeInstanceOf(ContainerStoppedError);
  });
});

describe('http', () => {
  test('a GET from inside the network namespace answers 200 (default) or the status asked for', async () => {
    const c = make();
    const at = port();
    webServer(c, at);
    await c.waitFor({ http: { port: at } });
    await c.waitFor({ http: { port: at, path: '/missing', status: 404 }, timeout: 5000 });
  });

  test('its timeout error names the request and what it last saw', async () => {
    const c = make();
    const at = port();
    webServer(c, at);
    await c.waitFor({ http: { port: at } });
    // The wait starts a Node probe of its own (lib/health/http-probe.ts): its first answer must
    // come within the timeout, and a Node start alone can take a second on a loaded machine.
    const waiting = c.waitFor({ http: { port: at, path: '/missing' }, timeout: 5000 });
    while (probesOf(at).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const error = await timeoutError(waiting);
    expect(error.condition).toBe(`HTTP 200 from GET http://127.0.0.1:${at}/missing (last seen: status 404)`);
    // The probe in the container's namespace went with the wait: none is left holding it.
    while (probesOf(at).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  });
});

describe('healthy', () => {
  test('resolves once the healthcheck passes', async () => {
    const c = make({ healthcheck: { test: ['CMD-SHELL', 'test -e /tmp/ready'], interval: 50, retries: 1000 } });
    c.spawn(['sh', '-c', 'sleep 0.3; touch /tmp/ready; exec sleep 60']);
    await c.waitFor({ healthy: true });
    expect((await c.health()).status).toBe('healthy');
  });

  test('its timeout error says the status last seen', async () => {
    const c = make({ healthcheck: { test: ['false'], interval: 50, retries: 1 } });
    c.spawn(['sleep', '60']);
    // Unhealthy first, however long the container and its first check take to come: from then
    // on no check can turn it healthy, so the wait times out having seen that status.
    while ((await c.health()).status !== 'unhealthy') await new Promise((resolve) => setTimeout(resolve, 20));
    const error = await timeoutError(c.waitFor({ healthy: true, timeout: 1000 }));
    expect(error.condition).toBe('a healthy status (last seen: status unhealthy)');
  });

  test('a container without a healthcheck cannot become healthy: TypeError at once', async () => {
    const c = make();
    c.spawn(['sleep', '60']);
    await expect(c.waitFor({ healthy: true })).rejects.toThrow(/^waitFor\.healthy: the container has no healthcheck/);
  });
});

test('bad conditions are refused with the option path, before anything waits', async () => {
  const c = make();
  c.spawn(['sleep', '60']);
  const refused = async (condition: unknown, message: RegExp): Promise<void> => {
    const error = await c.waitFor(condition as Parameters<Container['waitFor']>[0]).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
  };
  await refused({}, /^waitFor: expected exactly one of log, port, http, healthy; got none/);
  await refused({ port: 80, log: 'x' }, /^waitFor: expected exactly one of .* got log, port$/);
  await refused({ port: 70000 }, /^waitFor\.port: expected a TCP port from 1 to 65535, got 70000/);
  await refused({ http: { port: 80, path: 'no-slash' } }, /^waitFor\.http\.path: expected a path starting with "\/"/);
  await refused({ http: { port: 80, status: 42 } }, /^waitFor\.http\.status: expected an HTTP status/);
  await refused({ log: '' }, /^waitFor\.log: expected a RegExp or a non-empty string/);
  await refused({ port: 80, timeout: -1 }, /^waitFor\.timeout: expected milliseconds/);
  await refused({ port: 80, within: 5 }, /^waitFor\.within: unknown option/);
});
