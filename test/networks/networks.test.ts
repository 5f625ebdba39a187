/**
 * Networks across containers (issue 12): each scenario (network-scenarios.ts) runs in a test
 * host of its own (test/support/test-host.ts), never in the machine's network namespace.
 */
import * as path from 'node:path';
import { runInTestHost } from '../support/test-host';
import type * as scenarios from './network-scenarios';

const SCENARIOS = path.join(__dirname, 'network-scenarios.ts');
type Result<K extends keyof typeof scenarios> = Awaited<ReturnType<(typeof scenarios)[K]>>;
// The scenarios return plain JSON; the tests read them as such.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const run = (name: keyof typeof scenarios, args: unknown = null): Promise<any> => runInTestHost<Result<typeof name>>(SCENARIOS, name, args, 170_000);

jest.setTimeout(180_000);

const NOTHING_LEFT = { veths: 0, bridgePorts: 0, rules: [], ipam: [], records: [] };

describe('network definitions', () => {
  let r: any;
  beforeAll(async () => {
    r = await run('definitions');
  });

  test('subnets are picked free from 10.89.0.0/24 on, or taken as given; the gateway is the first address', () => {
    expect(r.ci).toMatchObject({ name: 'ci', subnet: '10.89.0.0/24', gateway: '10.89.0.1', internal: false });
    expect(r.second).toMatchObject({ subnet: '10.89.1.0/24', gateway: '10.89.1.1' });
    expect(r.fixed).toMatchObject({ subnet: '10.200.0.0/16', internal: true });
  });

  test('bad input gets typed errors, and nothing is defined by them', () => {
    expect(r.errors.duplicate).toMatchObject({ name: 'NetworkExistsError', code: 'ENETWORKEXISTS', network: 'ci' });
    expect(r.errors.overlapsNetwork).toMatchObject({ code: 'ESUBNET', subnet: '10.200.5.0/24' });
    expect(r.errors.overlapsNetwork.message).toContain('overlaps network fixed');
    expect(r.errors.overlapsRoute).toMatchObject({ code: 'ESUBNET' });
    expect(r.errors.overlapsRoute.message).toContain('192.168.77.0/24 (tdummy0)');
    expect(r.errors.tooSmall).toMatchObject({ code: 'ESUBNET' });
    expect(r.errors.hostBits.message).toContain('did you mean 10.1.0.0/24');
    expect(r.errors.badName).toMatchObject({ name: 'TypeError' });
    expect(r.errors.badName.message).toMatch(/^name: expected a network name/);
    expect(r.errors.notFound).toMatchObject({ name: 'NetworkNotFoundError', code: 'ENONETWORK', network: 'nope' });
    expect(r.afterRefusals).toEqual(['ci', 'fixed', 'second']);
  });

  test('a container on an unknown network fails before anything is made', () => {
    expect(r.errors.unknownOnSpawn).toMatchObject({ code: 'ENONETWORK' });
    expect(r.stateLeft).toEqual([]);
  });

  test('$TS_CONTAINER_DATA_ROOT holds the definitions when no dataRoot is given', () => {
    expect(r.envFiles).toEqual(['envnet.conflist']);
  });

  test('list() shows each network with its containers; networks() the interface from the CNI result', () => {
    const ci = r.listed.find((n: { name: string }) => n.name === 'ci');
    expect(ci.containers).toHaveLength(1);
    expect(r.ciNet).toEqual([{ network: 'ci', interface: 'eth0', addresses: ['10.89.0.2/24'], mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), gateway: '10.89.0.1', aliases: [] }]);
    expect(r.fixedNet[0].addresses).toEqual(['10.200.0.2/16']);
  });

  test('checkNetworks() resolves while everything is in place, and rejects with CniPluginError when not', () => {
    expect(r.checked).toBeNull();
    expect(r.checkedBroken).toMatchObject({ name: 'CniPluginError', code: 'ECNIPLUGIN', command: 'CHECK', plugin: 'bridge' });
  });

  test('outbound NAT: a masquerade rule for a member of a network, none for an internal one', () => {
    expect(r.masquerade).toEqual({ ci: true, fixed: false });
  });

  test('each network has its isolation chain while it exists', () => {
    expect(r.isolationChainWhileUp).toBe(true);
  });

  test('remove() is refused while containers are attached, unless forced; then bridge, chains and reservations go', () => {
    expect(r.inUse).toMatchObject({ name: 'NetworkInUseError', code: 'ENETWORKINUSE', network: 'ci' });
    expect(r.inUse.containers).toHaveLength(1);
    expect(r.afterForce).toEqual({ ciListed: false, bridge: false });
    expect(r.remaining).toEqual([]);
    expect(r.bridgesLeft).toEqual([]);
    expect(r.chainsLeft).toEqual([]);
    expect(r.after).toEqual(NOTHING_LEFT);
  });

  test('TSC-FORWARD goes with the last network, and the sweep removes an empty one left', () => {
    expect(r.forwardAfterLastRemove).toEqual([]);
    expect(r.forwardLeftover).toEqual(['-N TSC-FORWARD', '-A FORWARD -j TSC-FORWARD']);
    expect(r.sweptBySpawn).toMatchObject({ name: 'NetworkNotFoundError' });
    expect(r.forwardAfterSweep).toEqual([]);
  });
});

describe('containers on networks', () => {
  let r: any;
  beforeAll(async () => {
    r = await run('talk');
  });

  test('two members talk by name both ways over TCP, and by id', () => {
    expect(r.tcpAtoB).toEqual({ sent: expect.objectContaining({ exitCode: 0 }), received: 'a-to-b' });
    expect(r.tcpBtoA).toEqual({ sent: expect.objectContaining({ exitCode: 0 }), received: 'b-to-a' });
    expect(r.tcpById.received).toBe('by-id');
  });

  test('and over UDP', () => {
    expect(r.udpAtoB).toEqual({ asked: expect.objectContaining({ exitCode: 0, stdout: 'reply:a-to-b' }), received: 'a-to-b' });
    expect(r.udpBtoA).toEqual({ asked: expect.objectContaining({ exitCode: 0, stdout: 'reply:b-to-a' }), received: 'b-to-a' });
  });

  test('a member that joins later is resolved by the others without a restart', () => {
    expect(r.tcpToLate.received).toBe('to-late');
    expect(r.hostsOfAlpha.stdout).toMatch(/\slate(\s|$)/m);
  });

  test('a container on another network neither resolves nor reaches them', () => {
    expect(r.outsiderResolves.stdout).toBe('0');
    expect(r.outsiderTcp.exitCode).not.toBe(0);
    expect(r.outsiderUdp.exitCode).not.toBe(0);
    expect(r.stillListening.exitCode).toBe(0);
    expect(r.listened).toBe('after-outsider');
    expect(r.stillListeningUdp).toMatchObject({ exitCode: 0, stdout: 'reply:after-outsider' });
    expect(r.listenedUdp).toBe('after-outsider');
  });

  test('nor do they reach a container on another network, over TCP', () => {
    expect(r.toOutsiderTcp.exitCode).not.toBe(0);
    expect(r.fromTestHost).toBe(true);
    expect(r.outsiderListened).toBe('from-test-host');
  });

  test('nor over UDP, while the test host reaches its UDP server', () => {
    expect(r.toOutsiderUdp.exitCode).not.toBe(0);
    expect(r.fromTestHostUdp).toBe('reply:from-test-host');
    expect(r.outsiderListenedUdp).toBe('from-test-host');
  });

  test('after destroy: no veth, rule, reservation or record left', () => {
    expect(r.after).toEqual(NOTHING_LEFT);
  });
});

test('50 containers on one network at once all resolve and reach each other; nothing is left after', async () => {
  const count = 50;
  const r = await run('many', { count });
  expect(r.failures).toEqual([]);
  expect(r.whileUp.veths).toBe(count);
  expect(r.whileUp.ipam).toHaveLength(count);
  expect(r.after).toEqual(NOTHING_LEFT);
});

test('a missing plugin binary: CniPluginError before the program runs, nothing left', async () => {
  const r = await run('missingPlugin');
  expect(r.error).toMatchObject({ name: 'CniPluginError', code: 'ECNIPLUGIN', plugin: 'bridge', command: 'ADD' });
  expect(r.error.msg).toContain('bridge');
  expect(r.ran).toBe(false);
  expect(r.state).toEqual([]);
  expect(r.after).toEqual(NOTHING_LEFT);
});

test('mtu: the members of a network get its MTU; one out of range is a TypeError naming it', async () => {
  const r = await run('mtu');
  expect(r.mtu).toBe('9000');
  expect(r.names).toEqual(['jumbo:9000']);
  expect(r.refused).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/^mtu: expected an integer 576-65535, got 100/) });
  expect(r.after).toEqual(NOTHING_LEFT);
});

test('an exhausted subnet: SubnetError before the program runs, nothing of that container left', async () => {
  const r = await run('exhaustedSubnet');
  expect(r.addresses).toEqual(['10.77.0.2/29', '10.77.0.3/29', '10.77.0.4/29', '10.77.0.5/29', '10.77.0.6/29']);
  expect(r.error).toMatchObject({ name: 'SubnetError', code: 'ESUBNET', subnet: '10.77.0.0/29' });
  expect(r.error.message).toBe('network small has no free address left in 10.77.0.0/29');
  expect(r.ran).toBe(false);
  expect(r.listed).toBe(5);
  expect(r.after).toEqual(NOTHING_LEFT);
});

test('a detached member restarted with its address taken: new address in every hosts file, connect()ed network back', async () => {
  const r = await run('restartedElsewhere');
  expect(r.restartCount).toBe(1);
  expect(r.second.ci).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(r.second.ci).not.toBe(r.first.ci);
  expect(r.second.side).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(r.second.side).not.toBe(r.first.side);
  // The restarted process had both interfaces, at the new addresses.
  expect(r.secondInterfaces).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^eth0 ${r.second.ci.replace(/\./g, '\\.')}/`)), expect.stringMatching(new RegExp(`^eth1 ${r.second.side.replace(/\./g, '\\.')}/`))]));
  expect(r.peerLine).toMatch(new RegExp(`^${r.second.ci}\t${r.id}( \\S+)* dee$`));
  expect(r.peerOldLine).toBeNull();
  expect(r.sidePeerLine).toMatch(new RegExp(`^${r.second.side}\t${r.id}( \\S+)* dee-side$`));
  expect(r.sidePeerOldLine).toBeNull();
  expect(r.ownLine).toBeDefined();
  expect(r.ownOldLine).toBeNull();
  expect([r.reachedCi, r.receivedCi]).toEqual([0, 'over-ci']);
  expect([r.reachedSide, r.receivedSide]).toEqual([0, 'over-side']);
  expect(r.sideMembers).toContain(r.id);
  expect(r.afterDestroy.ci).not.toContain(r.id);
  expect(r.afterDestroy.side).not.toContain(r.id);
  expect(r.after).toEqual(NOTHING_LEFT);
  expect(r.stateLeft).toEqual([]);
});

test('a detached member restarted by its monitor comes back on the network with its address and names', async () => {
  const r = await run('detached');
  expect(r.restartCount).toBe(1);
  // Each run saw its interface from its first instruction on, with the same address.
  expect(r.addresses).toHaveLength(2);
  expect(r.addresses[1]).toBe(r.addresses[0]);
  // A new veth (a new mac), the same address and aliases.
  expect(r.second).toEqual([{ ...r.first[0], mac: expect.any(String) }]);
  expect(r.reached.exitCode).toBe(0);
  expect(r.received).toContain('after-restart');
  // The monitor's DEL, then destroy()'s sweep of its record: only the peer's are left.
  expect(r.afterDestroy).toEqual(r.peerOnly);
  expect(r.peerOnly.veths).toBe(1);
  expect(r.after).toEqual(NOTHING_LEFT);
});

describe('published ports', () => {
  let r: any;
  beforeAll(async () => {
    r = await run('ports');
  });

  test('reach the container from 127.0.0.1 and from a host address, TCP and UDP', () => {
    expect(r.viaLoopback).toBe('via-loopback');
    expect(r.viaHostAddress).toBe('via-host-address');
    expect(r.viaUdp).toBe('reply:udp-hello');
  });

  test('and from another container through the host address (hairpin)', () => {
    expect(r.viaHairpin).toMatchObject({ exitCode: 0, stdout: 'via-hairpin' });
  });

  test('a host port taken by another container or a host process fails with EADDRINUSE before the program runs', () => {
    expect(r.takenByContainer).toMatchObject({ code: 'EADDRINUSE', port: r.tcpPort, address: '0.0.0.0' });
    expect(r.takenByContainer.step).toBe(`publish 0.0.0.0:${r.tcpPort}/tcp`);
    expect(r.takenByHost).toMatchObject({ code: 'EADDRINUSE', address: '127.0.0.1' });
    expect(r.ran).toBe(false);
    expect(r.states).toBe(2);
  });

  test('after destroy the port is free, and no rule, veth or reservation is left', () => {
    expect(r.freedPort).toBeNull();
    expect(r.after).toEqual(NOTHING_LEFT);
    expect(r.portmapRules).toEqual([]);
  });
});

describe('the command line', () => {
  let r: any;
  beforeAll(async () => {
    r = await run('cli');
  });

  test('network create and ls', () => {
    expect(r.created).toMatchObject({ code: 0, stdout: 'ci\n' });
    expect(r.listed.stdout).toMatch(/^NAME\s+SUBNET\s+GATEWAY\s+INTERNAL\s+MTU\s+CONTAINERS$/m);
    expect(r.listed.stdout).toMatch(/^ci\s+10\.66\.0\.0\/24\s+10\.66\.0\.1\s+no\s+1500\s+0$/m);
  });

  test('network create --mtu N: ls shows it, and a member connected to it gets an interface of that MTU', () => {
    expect(r.createdWithMtu).toMatchObject({ code: 0, stdout: 'ci2\n' });
    expect(r.listedWithMtu.stdout).toMatch(/^ci2\s+\S+\s+\S+\s+no\s+9000\s+\d+$/m);
    expect(r.connectedLink.stdout).toMatch(/ eth1(@\S+)?: .* mtu 9000 /);
  });

  test('run --network NAME --network-alias NAME: the container knows itself by the alias', () => {
    expect(r.hosts.code).toBe(0);
    expect(r.hosts.stdout).toMatch(/^10\.66\.0\.\d+\t.* web$/m);
  });

  test('run -d -p 127.0.0.1:HOST:CONTAINER: the detached container is reached through the port', () => {
    expect(r.detached.code).toBe(0);
    expect(r.fetched).toBe('from-detached');
    expect(r.inspectedWhileUp[0].containers).toEqual([r.detached.stdout.trim()]);
  });

  test('port ID lists the published ports as docker port does', () => {
    expect(r.ports.all).toEqual({ code: 0, stdout: `80/tcp -> 127.0.0.1:${r.port}\n` });
    expect(r.ports.one).toEqual({ code: 0, stdout: `127.0.0.1:${r.port}\n` });
    expect(r.ports.absent.code).toBe(1);
    expect(r.ports.absent.stderr).toContain("no public port '81/udp'");
  });

  test('network connect from a CLI that exits: the attachment stays while the container runs', () => {
    expect(r.connected).toEqual({ code: 0, stdout: '' });
    // The next member ran the sweep, and still resolves the connected container by its alias.
    expect(r.memberHosts.code).toBe(0);
    expect(r.memberHosts.stdout).toMatch(new RegExp(`^\\d+\\.\\d+\\.\\d+\\.\\d+\\t${r.detachedId}( \\S+)* al$`, 'm'));
    expect(r.connectedLink.code).toBe(0);
    expect(r.listedOnCi2).toEqual([r.detachedId]);
    expect(r.connectedTwice.code).toBe(1);
    expect(r.connectedTwice.stderr).toContain('already on network ci2');
  });

  test('network disconnect takes the interface away; a second one, or an unknown container, exits 1', () => {
    expect(r.disconnected).toEqual({ code: 0, stdout: '' });
    expect(r.linkAfterDisconnect.code).not.toBe(0);
    expect(r.disconnectedTwice.code).toBe(1);
    expect(r.disconnectedTwice.stderr).toContain('is not on network ci2');
    expect(r.connectMissing.code).toBe(1);
    expect(r.connectMissing.stderr).toContain('no such container: no-such-container');
  });

  test('a connected container leaves the network when it goes: detached (delete) and attached (destroy)', () => {
    expect(r.reconnected.code).toBe(0);
    expect(r.attachedConnected.code).toBe(0);
    expect(r.attachedNetworks).toEqual(['ci/eth0', 'ci2/eth1']);
    expect(r.ci2AfterAttachedDestroy).toEqual([r.detachedId]);
    expect(r.ci2AfterDelete).toEqual([]);
    expect(r.after).toEqual(NOTHING_LEFT);
  });

  test('network rm: refused while in use (exit 1), then done; inspect of a missing network exits 1', () => {
    expect(r.inUse.code).toBe(1);
    expect(r.inUse.stderr).toContain('is used by container');
    expect(r.removedContainer.code).toBe(0);
    expect(r.removed).toMatchObject({ code: 0, stdout: 'ci\n' });
    expect(r.inspectMissing.code).toBe(1);
    expect(r.inspectMissing.stderr).toContain('no such network: ci');
    expect(r.after).toEqual(NOTHING_LEFT);
  });
});

describe('connect and disconnect', () => {
  let r: any;
  beforeAll(async () => {
    r = await run('connectDisconnect');
  });

  test('connect() gives a running container an interface on one more network, where members reach it by alias', () => {
    expect(r.networks.map((n: { network: string; interface: string }) => [n.network, n.interface])).toEqual([['a', 'eth0'], ['b', 'eth1']]);
    expect(r.networks[1].aliases).toEqual(['al']);
    expect(r.bravoToAlpha.exitCode).toBe(0);
    expect(r.received).toBe('to-connected');
    expect(r.alphaResolvesBee.stdout).toBe('1');
    expect(r.listedB.sort()).toEqual([r.alphaId, r.bravoId].sort());
    expect(r.twice).toMatchObject({ name: 'NetworkExistsError', code: 'ENETWORKEXISTS' });
  });

  test('disconnect() takes the interface, the record and the names away', () => {
    expect(r.afterDisconnect.links).not.toContain('eth1');
    expect(r.afterDisconnect.links).toContain('eth0');
    expect(r.afterDisconnect.bravoHosts).not.toMatch(/\sal(\s|$)/m);
    expect(r.afterDisconnect.networks.map((n: { network: string }) => n.network)).toEqual(['a']);
    expect(r.afterDisconnect.listedB).toEqual([r.bravoId]);
    expect(r.after).toEqual(NOTHING_LEFT);
  });
});
