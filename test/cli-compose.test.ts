/**
 * `ts-container compose` and `ts-container volume`, run as a user runs them (dist/cli.js),
 * inside a test host of their own (test/support/test-host.ts).
 */
import * as path from 'node:path';
import { CLI_JS, ensureBuiltCli } from './support/cli';
import { runInTestHost } from './support/test-host';

jest.setTimeout(240_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
let r: any;
beforeAll(async () => {
  ensureBuiltCli();
  r = await runInTestHost(path.join(__dirname, 'stacks', 'stack-scenarios.ts'), 'composeCli', { cli: CLI_JS }, 230_000);
});

test('compose up -d starts the services of the working directory\'s compose.yaml', () => {
  expect(r.up).toEqual({ status: 0, stdout: '', stderr: 'Container shop-api-1  Started\nContainer shop-seeder-1  Started\nContainer shop-client-1  Started\n' });
});

test('compose ps lists the containers with their service, image, status and ports', () => {
  expect(r.ps.status).toBe(0);
  const lines = r.ps.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^NAME +SERVICE +IMAGE +STATUS +PORTS$/);
  expect(lines[1]).toMatch(new RegExp(`^shop-api-1 +api +localhost/stack-busybox:1 +running \\(healthy\\) +127\\.0\\.0\\.1:${r.port}->7000/tcp$`));
  expect(lines[2]).toMatch(/^shop-seeder-1 +seeder +localhost\/stack-busybox:1 +exited \(0\) *$/);
  expect(lines[3]).toMatch(/^shop-client-1 +client +localhost\/stack-busybox:1 +exited \(0\) *$/);
  expect(r.psJson.map((c: { service: string; status: string }) => [c.service, c.status])).toEqual([['api', 'running'], ['seeder', 'stopped'], ['client', 'stopped']]);
});

test('compose logs prints each line after its service\'s name', () => {
  expect(r.logs).toEqual({ status: 0, stdout: 'client  | client got [hello-from-api] seed [42]\n', stderr: '' });
});

test('volume rm refuses a volume the stack\'s containers mount (status 1)', () => {
  expect(r.volumes.stdout).toBe('shop_seed\n');
  expect(r.volumeInUse.status).toBe(1);
  expect(r.volumeInUse.stderr).toBe('ts-container: volume shop_seed is used by containers shop-client-1, shop-seeder-1; delete them first\n');
});

test('compose down removes the containers and networks and keeps the volume; down -v removes it', () => {
  expect(r.down).toEqual({ status: 0, stdout: '', stderr: '' });
  expect(r.afterDown).toEqual({ containers: '', volumes: 'shop_seed\n', networks: '[]\n' });
  expect(r.downVolumes.status).toBe(0);
  expect(r.afterDownVolumes).toEqual({ volumes: '', ps: '' });
});

test('compose up without -d prints the output until the services end', () => {
  expect(r.attached.status).toBe(0);
  expect(r.attached.stdout.split('\n').sort()).toEqual(['', 'hello  | one', 'world  | three']);
  expect(r.attached.stderr).toBe('hello  | two\n');
  expect(r.attachedDown.status).toBe(0);
});

test('Ctrl-C of an attached up stops the services (kept for down) and exits as SIGINT\'s 130', () => {
  expect(r.interrupted).toEqual({ status: 130, signal: null, stdout: 'ticker  | ticking\n', stderr: 'Stopping...\n' });
  expect(r.afterInterrupt).toEqual([expect.objectContaining({ service: 'ticker', status: 'stopped' })]);
  expect(r.interruptedDown.status).toBe(0);
});

test('a bad compose file: status 1, its key named, nothing made', () => {
  expect(r.badFile.status).toBe(1);
  expect(r.badFile.stderr).toBe(`ts-container: ${path.join(r.dir, 'bad.yaml')}: services.web.build: not supported by ts-container (supported here: image, command, entrypoint, environment, ports, volumes, depends_on, healthcheck, networks, restart, stop_signal, stop_grace_period, hostname, working_dir, init)\n`);
  expect(r.noFile).toEqual({ status: 1, stdout: '', stderr: `ts-container: ${path.join(r.dir, 'missing.yaml')}: no such file\n` });
});

test('volume create, inspect and rm (each name on its own)', () => {
  expect(r.created).toEqual({ status: 0, stdout: 'made-by-cli\n', stderr: '' });
  expect(r.inspected).toEqual([expect.objectContaining({ name: 'made-by-cli', mountpoint: path.join(r.dataRoot, 'volumes', 'made-by-cli'), containers: [] })]);
  expect(r.removed).toEqual({ status: 1, stdout: 'made-by-cli\n', stderr: 'ts-container: no such volume: never-made (make it with Volume.create("never-made") or mount it, which makes it)\n' });
});

test('nothing is left: containers, networks, volumes, bridges, veths, rules, leases', () => {
  expect(r.after).toEqual({ containers: [], networks: [], volumes: [], bridges: [], veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] });
});
