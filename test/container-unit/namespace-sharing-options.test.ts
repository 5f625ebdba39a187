/**
 * The options that share namespaces (`network: { container }`, `pod`): what they accept, what
 * they refuse before anything is made, and which namespaces the plan then makes or joins.
 */
import { normalizeContainerOptions, normalizeProcessOptions } from '../../lib/options/validate';
import type { ContainerOptions } from '../../lib/options/types';
import { execPlan, runPlan } from '../../lib/container/plan';
import { savedConfig } from '../../lib/container/saved-config';

const config = (options: ContainerOptions) => normalizeContainerOptions({ id: 'box', stateRoot: '/run/tsc-x', dataRoot: '/data', ...options });

/** The values of a key in a serialized plan. */
function planValues(plan: Buffer, key: string): string[] {
  return plan
    .toString()
    .split('\0')
    .filter((entry) => entry.startsWith(`${key}=`))
    .map((entry) => entry.slice(key.length + 1));
}

function plans(options: ContainerOptions): { run: Buffer; exec: Buffer } {
  const c = { ...config(options), userns: null };
  const main = normalizeProcessOptions(['true'], undefined, c, 'main');
  return { run: runPlan(['true'], main.process, c, null, null), exec: execPlan(['true'], main.process, c, null, null, 42) };
}

test('network: { container } takes an id or a Container (and its state root)', () => {
  expect(config({ network: { container: 'db' } }).network).toEqual({ container: 'db', stateRoot: '/run/tsc-x' });
  const other = { id: 'db2', config: { lifecycle: { stateRoot: '/run/other' } } };
  expect(config({ network: { container: other as never } }).network).toEqual({ container: 'db2', stateRoot: '/run/other' });
});

test('bad sharing options are TypeErrors naming the option', () => {
  expect(() => config({ network: { container: '../x' } })).toThrow(/^network\.container: expected a container id/);
  expect(() => config({ network: { container: 42 as never } })).toThrow(/^network\.container: expected a Container or a container id/);
  expect(() => config({ network: { container: 'a', name: 'x' } as never })).toThrow(/^network\.name: unknown option/);
  expect(() => config({ network: 42 as never })).toThrow(/^network: expected "none", "host", a network name, \{ name, aliases \} or \{ container \}/);
  expect(() => config({ pod: 'not_a_label' })).toThrow(/^pod: expected a pod name/);
  expect(() => config({ pod: 'svc', network: 'host' })).toThrow(/^network: a pod's members share its network namespace/);
  expect(() => config({ pod: 'svc', hostname: 'h' })).toThrow(/^hostname: a pod's members share its uts namespace/);
});

test("a pod is found by name in the container's data root, or by a Pod's own", () => {
  expect(config({ pod: 'svc' }).pod).toEqual({ name: 'svc', dataRoot: '/data' });
  expect(config({ pod: { name: 'svc', dataRoot: '/pods-root' } as never }).pod).toEqual({ name: 'svc', dataRoot: '/pods-root' });
});

test('the plan joins what is shared instead of making it, and exec joins it too', () => {
  const own = plans({});
  expect(planValues(own.run, 'namespace').sort()).toEqual(['cgroup', 'ipc', 'mount', 'net', 'pid', 'uts']);
  expect(planValues(own.run, 'share')).toEqual([]);
  const joined = plans({ network: { container: 'db' } });
  expect(planValues(joined.run, 'namespace').sort()).toEqual(['cgroup', 'ipc', 'mount', 'pid', 'uts']);
  expect(planValues(joined.exec, 'namespace')).toContain('net');
  const member = plans({ pod: 'svc' });
  expect(planValues(member.run, 'namespace').sort()).toEqual(['cgroup', 'mount', 'pid']);
  expect(planValues(member.exec, 'namespace').sort()).toEqual(['cgroup', 'ipc', 'mount', 'net', 'pid', 'uts']);
});

test('config.json keeps ids and names: objects do not survive JSON', () => {
  const saved = savedConfig({ network: { container: { id: 'db' } as never } }, ['true'], undefined, null);
  expect(saved.options.network).toEqual({ container: 'db' });
  const pod = { name: 'svc', dataRoot: '/pods-root', created: new Date(0) };
  expect(savedConfig({ pod: pod as never }, ['true'], undefined, null).options.pod).toEqual({ name: 'svc', dataRoot: '/pods-root' });
});
