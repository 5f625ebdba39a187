/**
 * Containers that share namespaces: `network: { container }` (another container's network
 * namespace and nothing else) and pods (a pause process holding network, uts and ipc
 * namespaces for its members). Every scenario runs in a test network namespace of its own
 * (test/support/pod-scenarios.ts); traffic stays on 127.0.0.1 of the containers' namespaces.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { ensureBusyboxRootfs } from './support/busybox-rootfs';
import { runInTestNetwork } from './support/test-network';
import { removeTempDirs, tempDir } from './support/temp-dirs';
import { runCgroupParent, RUN_TAG } from './support/unique';
import type { ScenarioArgs } from './support/pod-scenarios';

const SCENARIOS = path.join(__dirname, 'support', 'pod-scenarios.ts');

afterAll(() => removeTempDirs());

function scenarioArgs(name: string): ScenarioArgs {
  return {
    rootfs: ensureBusyboxRootfs(),
    stateRoot: tempDir(`tsc-share-state-${name}-`),
    dataRoot: tempDir(`tsc-share-data-${name}-`),
    cgroupParent: runCgroupParent(`share-${name}`),
    // Any port: the scenario's namespaces are its own and empty.
    port: 20000 + crypto.randomInt(40000),
    tag: `${name}-${RUN_TAG}`.slice(0, 30),
  };
}

function run<T>(exportName: string, name: string): Promise<T> {
  return runInTestNetwork<T>(SCENARIOS, exportName, scenarioArgs(name));
}

describe('network: { container }', () => {
  test('the joined container shares the network namespace and nothing else', async () => {
    const r = await run<Awaited<ReturnType<typeof import('./support/pod-scenarios').joinedNetwork>>>('joinedNetwork', 'join');
    expect(r.client.net).toMatch(/^net:\[\d+\]$/);
    expect(r.client.net).toBe(r.server.net);
    expect(r.client.addr).toBe(r.server.addr);
    expect(r.client.addr).toContain('inet 10.123.45.67/32');
    expect(r.client.reply).toBe('hello-from-server');
    expect(r.served).toBe('served');
    // Its own pid, mount and uts namespaces.
    expect(r.client.pid).not.toBe(r.server.pid);
    expect(r.client.mnt).not.toBe(r.server.mnt);
    expect(r.client.uts).not.toBe(r.server.uts);
    // A process exec'd into a joined container (by id) stands in the shared namespace too.
    expect(r.execNet).toBe(r.server.net);
  });

  test('a target that stops between its lookup and the join is refused by the helper, nothing left', async () => {
    const r = await run<{ reached: string; failure: { name: string; code: string; message: string }; left: number }>('targetStopsWhileJoining', 'race');
    expect(r.reached).toBe('helper:share-namespaces');
    expect(r.failure).toMatchObject({ name: 'ContainerSetupError', code: 'ESRCH' });
    expect(r.failure.message).toContain('join the namespaces of process');
    expect(r.left).toBe(0);
  });

  test('a missing or stopped container, or a missing pod, is a typed error and leaves nothing', async () => {
    const r = await run<Awaited<ReturnType<typeof import('./support/pod-scenarios').joinFailures>>>('joinFailures', 'joinfail');
    expect(r.missing).toMatchObject({ name: 'ContainerNotFoundError', code: 'ENOCONTAINER' });
    expect(r.stopped).toMatchObject({ name: 'ContainerStoppedError', code: 'ECONTAINERSTOPPED' });
    expect(r.badPod).toMatchObject({ name: 'PodNotFoundError', code: 'ENOPOD' });
    expect(r.left).toEqual([0, 0, 0]);
  });
});

describe('pods', () => {
  test('members talk over localhost, share the hostname and only lo; remove waits for them unless forced', async () => {
    const r = await run<Awaited<ReturnType<typeof import('./support/pod-scenarios').podMembers>>>('podMembers', 'pod');
    expect(r.duplicate).toMatchObject({ name: 'PodExistsError', code: 'EPODEXISTS' });
    expect(r.hostname).toMatch(/^pod-/);
    expect(r.links).toBe('lo');
    expect(r.reply).toBe('hello-from-pod');
    expect(r.sharedNet).toBe(true);
    expect(r.ownPid).toBe(true);
    expect(r.listed).toHaveLength(1);
    expect(r.got).toBe(true);
    expect(r.members).toHaveLength(1);
    expect(r.members[0]).toMatch(/^pod-sleep-/);
    expect(r.inUse).toMatchObject({ name: 'PodInUseError', code: 'EPODINUSE' });
    expect(r.stillListed).toBe(1);
    expect(r.sleeperKilled).toBe(true);
    expect(r.afterForce.pods).toBe(0);
    expect(r.afterForce.get).toMatchObject({ name: 'PodNotFoundError', code: 'ENOPOD' });
    expect(r.afterForce.pause).toBe(0);
    expect(r.afterForce.podFiles).toEqual([]);
  });

  test('await using removes the pod after its members; a member in a user namespace joins too', async () => {
    const r = await run<{ pods: number; pause: number; hostname: string }>('podDisposed', 'dispose');
    expect(r).toEqual({ pods: 0, pause: 0, hostname: expect.stringMatching(/^disp-/) });
  });

  test('a detached member: its monitor stays in the host namespace, a restart joins the pod again', async () => {
    const r = await run<Awaited<ReturnType<typeof import('./support/pod-scenarios').podDetachedAndFailures>>>('podDetachedAndFailures', 'detach');
    expect(r.podNet).not.toBe(r.hostNet);
    expect(r.monitorNet).toBe(r.hostNet);
    expect(r.restartCount).toBe(1);
    expect(r.restartedNet).toBe(r.podNet);
    expect(r.monitorNetAfter).toBe(r.hostNet);
    expect(r.members).toEqual([r.memberId]);
    // A pod whose network is missing: a typed error, and no record or pause container left.
    expect(r.missingNetwork).toMatchObject({ name: 'NetworkNotFoundError', code: 'ENONETWORK' });
    expect(r.podFiles).toEqual([]);
    expect(r.stateEntries).toEqual([]);
  });

  test('kill -9 of the pause process or of the maker: the next pod operation clears what was left', async () => {
    const r = await run<Awaited<ReturnType<typeof import('./support/pod-scenarios').podCrashes>>>('podCrashes', 'crash');
    expect(r.afterPauseKill).toEqual({ pods: 0, pause: 0 });
    expect(r.makers['pod-recorded']).toEqual({ pods: 0, made: 0, left: 0, files: [] });
    expect(r.makers['pod-pause-started']).toEqual({ pods: 0, made: 1, left: 0, files: [] });
  });
});

test('a pod on a network: its members have the pod\'s address and published port, reached from the network; nothing left after', async () => {
  const r = await run<Awaited<ReturnType<typeof import('./support/pod-scenarios').podOnNetwork>>>('podOnNetwork', 'podnet');
  expect(r.podAddress).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
  expect(r.pauseNetworks).toHaveLength(1);
  expect(r.pauseNetworks[0].addresses).toEqual([r.podAddress]);
  expect(r.reply).toBe('hello-over-bridge');
  // The pod's published port reaches the member from the test host's 127.0.0.1.
  expect(r.published).toBe('hello-over-bridge');
  expect({ status: r.portStatus, text: r.portText }).toEqual({ status: 0, text: `${r.port}/tcp -> 0.0.0.0:${r.port + 1}\n` });
  // network: { container } on a networked container: its hosts files come along.
  expect(r.joinedReply).toBe('hello-over-bridge');
  expect(r.memberHosts).toMatch(new RegExp(`^\\d+\\.\\d+\\.\\d+\\.\\d+\\s.*\\b${r.outsider}\\b`, 'm'));
  expect(r.left).toEqual({ veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] });
});
