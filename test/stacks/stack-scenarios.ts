/**
 * Stack scenarios, each run inside its own test host (test/support/test-host.ts): a compose
 * file of busybox services, brought up and down, and what is left after. Exported functions
 * whose JSON results test/stacks/stack.test.ts asserts on; each makes its own roots.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Container, ImageStore, Network, Stack, Volume } from '../../lib';
import { buildOciLayout, busyboxImage } from '../support/image-fixtures';
import { runCgroupParent } from '../support/unique';
import { removeTempDirsAtExit, tempDir } from '../support/temp-dirs';
import { leftovers } from '../networks/network-scenarios';

// Run in a process of their own (under unshare, started by the tests): what they make in /tmp
// goes when that process exits.
removeTempDirsAtExit();

export const IMAGE = 'localhost/stack-busybox:1';

export interface StackRoots {
  dir: string;
  dataRoot: string;
  stateRoot: string;
  cgroupParent: string;
}

/** Fresh roots and the busybox image in their store. */
export async function stackRoots(): Promise<StackRoots> {
  const dir = tempDir('tsc-stack-');
  const dataRoot = path.join(dir, 'data');
  const stateRoot = path.join(dir, 'state');
  fs.mkdirSync(dataRoot, { mode: 0o700 });
  const layout = buildOciLayout(path.join(dir, 'layout'), busyboxImage('1'));
  const store = new ImageStore({ dataRoot });
  const [image] = await store.import(layout);
  await store.tag(image.id, IMAGE);
  return { dir, dataRoot, stateRoot, cgroupParent: runCgroupParent('stack') };
}

function errorOf(error: unknown): Record<string, unknown> {
  const e = error as Error & { code?: string };
  return { ...e, name: e.name, code: e.code, message: e.message };
}

/** What the roots and this namespace hold of a stack: containers, networks, volumes, veths, rules. */
async function remains(roots: StackRoots): Promise<Record<string, unknown>> {
  const containers = (await Container.list({ stateRoot: roots.stateRoot })).map((c) => c.id);
  const networks = (await Network.list({ dataRoot: roots.dataRoot })).map((n) => n.name);
  const volumes = (await Volume.list({ dataRoot: roots.dataRoot })).map((v) => v.name);
  const bridges = fs.readdirSync('/sys/class/net').filter((l) => fs.existsSync(`/sys/class/net/${l}/bridge`));
  return { containers, networks, volumes, bridges, ...leftovers(roots.dataRoot) };
}

const BB = '/bin/busybox';

/**
 * The exit of a detached container, read from its state once its monitor has recorded it
 * (wait() of a container found by id just as it exits may not have the code yet).
 */
async function exitOf(id: string, stateRoot: string): Promise<{ exitCode: number | null; signal: string | null }> {
  const container = await Container.get(id, { stateRoot });
  for (;;) {
    const state = await container.state();
    if (state.status === 'stopped' && state.exitCode !== undefined) return { exitCode: state.exitCode, signal: state.signal ?? null };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A port free on 127.0.0.1 of this test host now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** What a TCP server at 127.0.0.1:port sends before it closes (retried while it does not accept yet). */
async function readFrom(port: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = net.connect(port, '127.0.0.1');
        socket.on('data', (d) => {
          text += d.toString();
          if (text.includes('\n')) socket.destroy(), resolve(text);
        });
        socket.on('error', reject).on('close', () => resolve(text));
      });
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A server, a one-shot job that fills a named volume, and a client that needs both: the
 * server healthy, the job exited 0. The client reaches the server by its service name and
 * reads the volume.
 */
export const TWO_SERVICES = (port: number): string => `
name: shop
services:
  client:
    image: ${IMAGE}
    command: ["${BB}", "sh", "-c", "read seed < /seed/value; for i in $$(busybox seq 50); do if reply=$$(busybox nc -w 2 api 7000 </dev/null); then echo \\"client got [$$reply] seed [$$seed]\\"; exit 0; fi; busybox sleep 0.1; done; exit 1"]
    volumes:
      - seed:/seed:ro
    depends_on:
      api:
        condition: service_healthy
      seeder:
        condition: service_completed_successfully
  api:
    image: ${IMAGE}
    init: true
    environment:
      GREETING: hello-from-api
    ports:
      - "127.0.0.1:${port}:7000"
    command: ${BB} sh -c 'busybox sleep 0.3; busybox touch /ready; while true; do echo "$$GREETING" | busybox nc -l -p 7000; done'
    healthcheck:
      test: ["CMD", "${BB}", "test", "-f", "/ready"]
      interval: 100ms
      retries: 50
  seeder:
    image: ${IMAGE}
    entrypoint: ["${BB}", "sh", "-c"]
    command: ["echo 42 > /seed/value"]
    volumes:
      - type: volume
        source: seed
        target: /seed
volumes:
  seed: {}
`;

export async function twoServices(): Promise<unknown> {
  const roots = await stackRoots();
  const file = path.join(roots.dir, 'compose.yaml');
  const port = await freePort();
  fs.writeFileSync(file, TWO_SERVICES(port));
  const options = { dataRoot: roots.dataRoot, stateRoot: roots.stateRoot, cgroupParent: roots.cgroupParent };
  const stack = Stack.fromFile(roots.dir, options);
  await stack.up();
  const clientExit = await exitOf('shop-client-1', roots.stateRoot);
  const states = Object.fromEntries(
    await Promise.all(['shop-api-1', 'shop-seeder-1', 'shop-client-1'].map(async (id) => [id, await (await Container.get(id, { stateRoot: roots.stateRoot })).state()] as const)),
  );
  const ps = await stack.ps();
  const published = await readFrom(port);
  const logs: { service: string; text: string }[] = [];
  for await (const record of stack.logs()) logs.push({ service: record.service, text: record.data.toString() });
  const networksUp = (await Network.list({ dataRoot: roots.dataRoot })).map((n) => ({ name: n.name, containers: n.containers }));
  const volumeInUse = await Volume.remove('shop_seed', { dataRoot: roots.dataRoot }).then(() => null, errorOf);
  // Another Stack object (as another process's `compose down` would be) finds the containers.
  await Stack.fromFile(file, options).down();
  const afterDown = await remains(roots);
  const volumeData = fs.readFileSync(path.join(roots.dataRoot, 'volumes', 'shop_seed', 'value'), 'utf8');
  await stack.down({ volumes: true });
  const afterDownVolumes = await remains(roots);
  return { services: stack.services, project: stack.project, port, published, clientExit, states, ps, logs, networksUp, volumeInUse, afterDown, volumeData, afterDownVolumes };
}

/** A dependency that fails its condition: up() rejects naming it; down() then leaves nothing. */
export async function failedDependency(): Promise<unknown> {
  const roots = await stackRoots();
  const options = { dataRoot: roots.dataRoot, stateRoot: roots.stateRoot, cgroupParent: roots.cgroupParent, project: 'failing' };
  const stack = new Stack({
    services: {
      job: { image: IMAGE, command: [BB, 'sh', '-c', 'exit 3'] },
      sick: { image: IMAGE, command: [BB, 'sleep', '30'], init: true, healthcheck: { test: ['CMD', BB, 'false'], interval: '50ms', retries: 2 } },
      after: { image: IMAGE, command: [BB, 'true'], depends_on: { job: { condition: 'service_completed_successfully' } } },
      later: { image: IMAGE, command: [BB, 'true'], depends_on: { sick: { condition: 'service_healthy' } } },
    },
  }, options);
  const completed = await stack.up().then(() => null, errorOf);
  const psAfterFailure = (await stack.ps()).map((c) => ({ service: c.service, status: c.status }));
  await stack.down();
  const onlyHealth = new Stack({
    services: {
      sick: { image: IMAGE, command: [BB, 'sleep', '30'], init: true, healthcheck: { test: ['CMD', BB, 'false'], interval: '50ms', retries: 2 } },
      later: { image: IMAGE, command: [BB, 'true'], depends_on: { sick: { condition: 'service_healthy' } } },
    },
  }, { ...options, project: 'unhealthy' });
  const healthy = await onlyHealth.up().then(() => null, errorOf);
  await onlyHealth.down();
  const missingImage = await new Stack({ services: { a: { image: 'localhost/no-such-image:1' } } }, { ...options, project: 'noimage' }).up().then(() => null, errorOf);
  const missingNetwork = await new Stack({
    services: { a: { image: IMAGE, networks: ['mine', 'shared'] } },
    networks: { mine: {}, shared: { external: true } },
  }, { ...options, project: 'extnet' }).up().then(() => null, errorOf);
  const missingVolume = await new Stack({
    services: { a: { image: IMAGE, volumes: ['mine:/a', 'theirs:/b'] } },
    volumes: { mine: {}, theirs: { external: true } },
  }, { ...options, project: 'extvol' }).up().then(() => null, errorOf);
  return { completed, psAfterFailure, healthy, missingImage, missingNetwork, missingVolume, after: await remains(roots) };
}


/** Starts the CLI, sends SIGINT once its stdout has said `ready`, and returns how it ended. */
async function interruptAttached(cliJs: string, words: string[], cwd: string, ready: string): Promise<CliResult & { signal: string | null }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [cliJs, ...words], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes(ready)) child.kill('SIGINT');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  return { status, signal, stdout, stderr };
}

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The command line (the built dist/cli.js): compose up -d, ps, logs, down [-v], attached up, volume, a bad file. */
export async function composeCli({ cli: cliJs }: { cli: string }): Promise<unknown> {
  const { spawnSync } = await import('node:child_process');
  const roots = await stackRoots();
  const base = (): string[] => ['--root', roots.stateRoot, '--data-root', roots.dataRoot];
  const cli = (...words: string[]): CliResult => {
    const r = spawnSync(process.execPath, [cliJs, ...base(), ...words], { cwd: roots.dir, encoding: 'utf8', timeout: 90_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const port = await freePort();
  // The working directory's compose.yaml, found without -f.
  fs.writeFileSync(path.join(roots.dir, 'compose.yaml'), TWO_SERVICES(port));
  const up = cli('compose', 'up', '-d');
  await exitOf('shop-client-1', roots.stateRoot);
  const ps = cli('compose', 'ps');
  const psJson = JSON.parse(cli('compose', 'ps', '--json').stdout) as { service: string; status: string }[];
  const logs = cli('compose', 'logs');
  const volumes = cli('volume', 'ls', '-q');
  const volumeInUse = cli('volume', 'rm', 'shop_seed');
  const down = cli('compose', 'down');
  const afterDown = { containers: cli('list', '-q').stdout, volumes: cli('volume', 'ls', '-q').stdout, networks: cli('network', 'ls', '--json').stdout };
  const downVolumes = cli('compose', 'down', '-v');
  const afterDownVolumes = { volumes: cli('volume', 'ls', '-q').stdout, ps: cli('compose', 'ps', '-q').stdout };

  // Attached: the output until the services end, each line after its service's name.
  fs.writeFileSync(path.join(roots.dir, 'attached.yml'), `services:\n  hello:\n    image: ${IMAGE}\n    command: ["${BB}", "sh", "-c", "echo one; echo two >&2"]\n  world:\n    image: ${IMAGE}\n    command: ["${BB}", "echo", "three"]\n    depends_on: [hello]\n`);
  const attached = cli('compose', '-f', 'attached.yml', '-p', 'att', 'up');
  const attachedDown = cli('compose', '-f', 'attached.yml', '-p', 'att', 'down');

  // Attached, Ctrl-C: the services are stopped (kept for down), and the command exits as SIGINT's.
  fs.writeFileSync(path.join(roots.dir, 'forever.yml'), `services:\n  ticker:\n    image: ${IMAGE}\n    init: true\n    command: ["${BB}", "sh", "-c", "echo ticking; exec busybox sleep 1000"]\n`);
  const interrupted = await interruptAttached(cliJs, [...base(), 'compose', '-f', 'forever.yml', '-p', 'tick', 'up'], roots.dir, 'ticker  | ticking\n');
  const afterInterrupt = JSON.parse(cli('compose', '-f', 'forever.yml', '-p', 'tick', 'ps', '--json').stdout) as { service: string; status: string }[];
  const interruptedDown = cli('compose', '-f', 'forever.yml', '-p', 'tick', 'down');

  fs.writeFileSync(path.join(roots.dir, 'bad.yaml'), `services:\n  web:\n    image: ${IMAGE}\n    build: .\n`);
  const badFile = cli('compose', '-f', 'bad.yaml', 'up', '-d');
  const noFile = cli('compose', '-f', 'missing.yaml', 'ps');
  const created = cli('volume', 'create', 'made-by-cli');
  const inspected = JSON.parse(cli('volume', 'inspect', 'made-by-cli').stdout) as unknown[];
  const removed = cli('volume', 'rm', 'made-by-cli', 'never-made');
  return { port, up, ps, psJson, logs, volumes, volumeInUse, down, afterDown, downVolumes, afterDownVolumes, attached, attachedDown, interrupted, afterInterrupt, interruptedDown, badFile, noFile, created, inspected, removed, after: await remains(roots), dataRoot: roots.dataRoot, dir: roots.dir };
}

/** Serves `text` on port 7000 forever. */
const serve = (text: string): string[] => [BB, 'sh', '-c', `while true; do echo ${text} | busybox nc -l -p 7000; done`];
/**
 * Asks each host on port 7000 (`tries` times while it does not answer) and prints "host: reply"
 * or "host: none".
 */
const ask = (hosts: Record<string, number>): string[] => [BB, 'sh', '-c', Object.entries(hosts).map(([h, tries]) => `r=none; for i in $(busybox seq ${tries}); do if x=$(busybox nc -w 1 ${h} 7000 </dev/null 2>/dev/null) && [ -n "$x" ]; then r=$x; break; fi; busybox sleep 0.1; done; echo "${h}: $r"`).join('; ')];

/**
 * A service on two networks (front, with an alias, and back, internal), one only on back, and
 * a probe on each: each reaches by name only what shares a network with it.
 */
export async function twoNetworks(): Promise<unknown> {
  const roots = await stackRoots();
  const stack = new Stack({
    services: {
      web: { image: IMAGE, init: true, command: serve('from-web'), networks: { front: { aliases: ['www'] }, back: null } },
      db: { image: IMAGE, init: true, command: serve('from-db'), networks: ['back'] },
      'probe-front': { image: IMAGE, command: ask({ www: 30, web: 30, db: 1 }), networks: ['front'], depends_on: ['web', 'db'] },
      'probe-back': { image: IMAGE, command: ask({ web: 30, db: 30 }), networks: ['back'], depends_on: ['web', 'db'] },
    },
    networks: { front: {}, back: { internal: true } },
  }, { dataRoot: roots.dataRoot, stateRoot: roots.stateRoot, cgroupParent: roots.cgroupParent, project: 'nets' });
  await stack.up();
  for (const probe of ['probe-front', 'probe-back']) await exitOf(`nets-${probe}-1`, roots.stateRoot);
  const said: Record<string, string> = {};
  for await (const record of stack.logs()) said[record.service] = (said[record.service] ?? '') + record.data.toString();
  const networks = Object.fromEntries((await Network.list({ dataRoot: roots.dataRoot })).map((n) => [n.name, { internal: n.internal, containers: n.containers }]));
  await stack.down();
  return { said, networks, after: await remains(roots) };
}
