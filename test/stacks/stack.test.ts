/**
 * Stacks (issue 13): a compose file's services brought up in dependency order, reaching each
 * other by service name, and down() leaving nothing. Each scenario (stack-scenarios.ts) runs
 * in a test host of its own (test/support/test-host.ts), never in the machine's network namespace.
 */
import * as path from 'node:path';
import { runInTestHost } from '../support/test-host';

const SCENARIOS = path.join(__dirname, 'stack-scenarios.ts');
// The scenarios return plain JSON; the tests read them as such.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const run = (name: string): Promise<any> => runInTestHost(SCENARIOS, name, null, 170_000);

jest.setTimeout(180_000);

const NOTHING_LEFT = { containers: [], networks: [], bridges: [], veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] };

describe('a stack of a server, a job and a client (compose.yaml)', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let r: any;
  beforeAll(async () => {
    r = await run('twoServices');
  });

  test('the project is the file\'s name; services start in dependency order', () => {
    expect(r.project).toBe('shop');
    expect(r.services.indexOf('client')).toBeGreaterThan(r.services.indexOf('api'));
    expect(r.services.indexOf('client')).toBeGreaterThan(r.services.indexOf('seeder'));
    expect(Object.keys(r.states).sort()).toEqual(['shop-api-1', 'shop-client-1', 'shop-seeder-1']);
  });

  test('the client reaches the server by its service name and reads what the job put in the named volume', () => {
    expect(r.clientExit.exitCode).toBe(0);
    expect(r.logs).toEqual([{ service: 'client', text: 'client got [hello-from-api] seed [42]\n' }]);
    expect(r.networksUp).toEqual([{ name: 'shop_default', containers: ['shop-api-1', 'shop-client-1'] }]);
  });

  test('depends_on conditions: the client started after the job exited 0 and after the server became healthy', () => {
    const client = Date.parse(r.states['shop-client-1'].startedAt);
    expect(client).toBeGreaterThanOrEqual(Date.parse(r.states['shop-seeder-1'].finishedAt));
    // The server becomes healthy only once it has made /ready, 300 ms after its start.
    expect(client).toBeGreaterThanOrEqual(Date.parse(r.states['shop-api-1'].startedAt) + 300);
    expect(r.states['shop-seeder-1'].exitCode).toBe(0);
  });

  test('services run detached, marked with the project and service; ps lists them in start order', () => {
    expect(r.states['shop-api-1']).toMatchObject({ detached: true, status: 'running', annotations: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'api' } });
    expect(r.ps.map((c: { service: string; status: string }) => [c.service, c.status])).toEqual([['api', 'running'], ['seeder', 'stopped'], ['client', 'stopped']]);
    expect(r.ps[0]).toMatchObject({ id: 'shop-api-1', health: 'healthy', image: 'localhost/stack-busybox:1', ports: [{ host: r.port, container: 7000, hostIp: '127.0.0.1', protocol: 'tcp' }] });
  });

  test('a published port reaches the service from the host', () => {
    expect(r.published).toBe('hello-from-api\n');
  });

  test('the named volume cannot be removed while containers mount it', () => {
    expect(r.volumeInUse).toMatchObject({ name: 'VolumeInUseError', code: 'EVOLUMEINUSE', volume: 'shop_seed', containers: ['shop-client-1', 'shop-seeder-1'] });
  });

  test('down() leaves no container, network, veth, rule or lease, and keeps the volume and its data', () => {
    expect(r.afterDown).toEqual({ ...NOTHING_LEFT, volumes: ['shop_seed'] });
    expect(r.volumeData).toBe('42\n');
  });

  test('down({ volumes: true }) removes the named volumes too', () => {
    expect(r.afterDownVolumes).toEqual({ ...NOTHING_LEFT, volumes: [] });
  });
});

describe('dependencies that fail', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let r: any;
  beforeAll(async () => {
    r = await run('failedDependency');
  });

  test('service_completed_successfully: a job that exits 3 fails up() with a typed error naming it', () => {
    expect(r.completed).toMatchObject({ name: 'StackDependencyError', code: 'ESTACKDEPENDENCY', service: 'after', dependency: 'job', condition: 'service_completed_successfully' });
    expect(r.completed.message).toContain('exited with 3');
    // What was started stays for inspection, as compose leaves it; the dependent never started.
    expect(r.psAfterFailure).toEqual([{ service: 'job', status: 'stopped' }, { service: 'sick', status: 'running' }]);
  });

  test('service_healthy: a service whose check keeps failing is unhealthy after its retries', () => {
    expect(r.healthy).toMatchObject({ code: 'ESTACKDEPENDENCY', service: 'later', dependency: 'sick', condition: 'service_healthy' });
    // Unhealthy after 2 failures in a row; the monitor may have run another check since.
    const failures = Number(/is unhealthy \((\d+) failed checks; the last check exited 1\)$/.exec(r.healthy.message)?.[1]);
    expect(failures).toBeGreaterThanOrEqual(2);
  });

  test('a missing image fails up() before anything is made', () => {
    expect(r.missingImage).toMatchObject({ name: 'ImageNotFoundError', reference: 'localhost/no-such-image:1' });
  });

  test('a missing external network or volume fails up() before anything is made', () => {
    expect(r.missingNetwork).toMatchObject({ name: 'NetworkNotFoundError', network: 'shared' });
    expect(r.missingVolume).toMatchObject({ name: 'VolumeNotFoundError', volume: 'theirs' });
  });

  test('down() after the failures leaves nothing', () => {
    expect(r.after).toEqual({ ...NOTHING_LEFT, volumes: [] });
  });
});

describe('services on several networks', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let r: any;
  beforeAll(async () => {
    r = await run('twoNetworks');
  });

  test('each service reaches by name (and alias) only the services that share a network with it', () => {
    expect(r.said['probe-front']).toBe('www: from-web\nweb: from-web\ndb: none\n');
    expect(r.said['probe-back']).toBe('web: from-web\ndb: from-db\n');
  });

  test('the networks are named after the project, as declared (internal), with their members', () => {
    // The probes, once exited, leave their networks as their monitors get to it: not asserted.
    expect(r.networks['nets_front']).toEqual({ internal: false, containers: expect.arrayContaining(['nets-web-1']) });
    expect(r.networks['nets_front'].containers).not.toContain('nets-db-1');
    expect(r.networks['nets_back']).toEqual({ internal: true, containers: expect.arrayContaining(['nets-db-1', 'nets-web-1']) });
  });

  test('down() leaves nothing', () => {
    expect(r.after).toEqual({ ...NOTHING_LEFT, volumes: [] });
  });
});
