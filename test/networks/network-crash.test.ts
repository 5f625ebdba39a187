/**
 * Crash safety of networks: the process attaching a container is killed with -9 at each step
 * (test hook pauses), then the next network operation of another process (a container joining
 * the network) sweeps what was left: veths, bridge ports, iptables rules, IPAM reservations,
 * records and namespace pins all fall to zero. Each step runs in a test host of its own.
 */
import * as path from 'node:path';
import { runInTestHost } from '../support/test-host';

const SCENARIOS = path.join(__dirname, 'network-scenarios.ts');

jest.setTimeout(180_000);

const STEPS = ['network-recorded', 'network-added', 'created', 'network-deleting'] as const;

describe.each(STEPS)('maker killed at %s', (step) => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let r: any;
  beforeAll(async () => {
    r = await runInTestHost(SCENARIOS, 'crashAt', { step }, 170_000);
  });

  test('it had left its attachment behind', () => {
    expect(r.before.records.length).toBeGreaterThan(0);
    if (step !== 'network-recorded') {
      expect(r.before.veths).toBe(1);
      expect(r.before.ipam).toHaveLength(1);
    }
  });

  test('the next network operation leaves zero veths, rules, reservations, records and pins', () => {
    expect(r.after).toEqual({ veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] });
    expect(r.pins).toEqual([]);
  });
});

test("kill -9 of a detached container's monitor: the next network operation leaves nothing", async () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const r: any = await runInTestHost(SCENARIOS, 'monitorKilled', null, 170_000);
  expect(r.before.veths).toBe(1);
  expect(r.before.records.length).toBeGreaterThan(0);
  expect(r.after).toEqual({ veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] });
  expect(r.pins).toEqual([]);
});
