/**
 * Network scenarios, each run inside its own test host (test/support/test-host.ts): exported
 * functions whose JSON results the tests assert on. Each makes its own state and data root.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Container, Network } from '../../lib';
import { startScript, waitForFile } from '../support/node-script';
import type { ContainerOptions } from '../../lib';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { runCgroupParent } from '../support/unique';
import { removeTempDirsAtExit, tempDir } from '../support/temp-dirs';

// Run in a process of their own (under unshare, started by the tests): what they make in /tmp
// goes when that process exits.
removeTempDirsAtExit();

interface Roots {
  dataRoot: string;
  stateRoot: string;
  base: ContainerOptions;
}

function roots(): Roots {
  const dir = tempDir('tsc-net-');
  const dataRoot = path.join(dir, 'data');
  const stateRoot = path.join(dir, 'state');
  fs.mkdirSync(dataRoot, { mode: 0o700 });
  return { dataRoot, stateRoot, base: { rootfs: ensureBusyboxRootfs(), dataRoot, stateRoot, cgroupParent: runCgroupParent('net') } };
}

/** What a network leaves in this namespace and data root: every count must fall to zero. */
export function leftovers(dataRoot: string): { veths: number; bridgePorts: number; rules: string[]; ipam: string[]; records: string[] } {
  const links = execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' });
  const parsed = JSON.parse(links) as { ifname: string; link_type?: string; linkinfo?: unknown; master?: string }[];
  const veths = execFileSync('ip', ['-j', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
  const rules = ['filter', 'nat']
    .flatMap((table) => execFileSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' }).split('\n'))
    // Per-container rules: the firewall's ACCEPTs by address and the bridge's masquerade (networks
    // defined before ts-container made these per network), portmap's DNAT chains.
    .filter((line) => /CNI-DN-|CNI-[0-9a-f]{20,}|-A CNI-FORWARD .*-(s|d) \d/.test(line));
  const ipamRoot = path.join(dataRoot, 'cni', 'ipam');
  const ipam: string[] = [];
  if (fs.existsSync(ipamRoot)) {
    for (const net of fs.readdirSync(ipamRoot)) {
      for (const file of fs.readdirSync(path.join(ipamRoot, net))) if (/^\d+\.\d+\.\d+\.\d+$/.test(file)) ipam.push(`${net}/${file}`);
    }
  }
  const records: string[] = [];
  const networksDir = path.join(dataRoot, 'networks');
  if (fs.existsSync(networksDir)) {
    for (const entry of fs.readdirSync(networksDir)) {
      const dir = path.join(networksDir, entry, 'attachments');
      if (fs.existsSync(dir)) records.push(...fs.readdirSync(dir).map((f) => `${entry}/${f}`));
    }
  }
  return { veths: (JSON.parse(veths) as unknown[]).length, bridgePorts: parsed.filter((l) => l.master).length, rules, ipam, records };
}

async function sh(options: ContainerOptions, script: string): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const c = new Container(options);
  try {
    const out = await c.spawn(['sh', '-c', script], { stdio: 'pipe' }).output();
    return { exitCode: out.exitCode, stdout: out.stdout.toString(), stderr: out.stderr.toString() };
  } finally {
    await c.destroy();
  }
}

/** A network, a container on it: its interface, address, hosts and resolv.conf; then nothing left. */
export async function oneContainer(): Promise<unknown> {
  const { dataRoot, base } = roots();
  const net = await Network.create({ name: 'ci', dataRoot });
  const c = new Container({ ...base, network: { name: 'ci', aliases: ['db'] } });
  const out = await c.spawn(['sh', '-c', 'ip -o -4 addr show eth0; cat /etc/hosts; echo ---; cat /etc/resolv.conf'], { stdio: 'pipe' }).output();
  const networks = await c.networks();
  const listed = (await Network.list({ dataRoot })).map((n) => ({ name: n.name, containers: n.containers }));
  await c.destroy();
  const after = leftovers(dataRoot);
  await net.remove();
  return { net: net.toJSON(), stdout: out.stdout.toString(), stderr: out.stderr.toString(), exitCode: out.exitCode, networks, listed, after, id: c.id };
}


/** Waits for a server in a container, then connects: busybox nc retried until it listens. */
const CONNECT = (host: string, port: number, message: string) =>
  `for i in $(seq 100); do if echo ${message} | nc -w 2 ${host} ${port}; then exit 0; fi; sleep 0.05; done; exit 1`;

let udpPeerBinary: string | undefined;

/** The UDP peer (test/networks/fixtures/udp-peer.c), built static once per scenario process. */
function udpPeerMount(): { type: 'bind'; source: string; target: string; readonly: boolean } {
  if (!udpPeerBinary) {
    const binary = path.join(tempDir('tsc-udp-peer-'), 'udp-peer');
    execFileSync('gcc', ['-static', '-O2', '-o', binary, path.join(__dirname, 'fixtures', 'udp-peer.c')], { stdio: 'ignore' });
    udpPeerBinary = binary;
  }
  return { type: 'bind', source: udpPeerBinary, target: '/usr/local/bin/udp-peer', readonly: true };
}

async function execText(c: Container, script: string): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const out = await c.exec(['sh', '-c', script], { stdio: 'pipe' }).output();
  return { exitCode: out.exitCode, stdout: out.stdout.toString().trim(), stderr: out.stderr.toString().trim() };
}

function errorOf(error: unknown): { name: string; code: string; message: string; [key: string]: unknown } {
  const e = error as Error & { code: string };
  return { ...e, name: e.name, code: e.code, message: e.message };
}

async function caught(fn: () => Promise<unknown>): Promise<ReturnType<typeof errorOf> | null> {
  try {
    await fn();
    return null;
  } catch (error) {
    return errorOf(error);
  }
}

function iptablesRules(): string {
  return ['filter', 'nat'].map((t) => execFileSync('iptables', ['-w', '-t', t, '-S'], { encoding: 'utf8' })).join('\n');
}

function linkExists(name: string): boolean {
  return fs.readFileSync('/proc/net/dev', 'utf8').includes(`${name}:`);
}

/** create/list/get/remove, the data root rules, subnets and every typed error. */
export async function definitions(): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const ci = await Network.create({ name: 'ci', dataRoot });
  const second = await Network.create({ name: 'second', dataRoot });
  const fixed = await Network.create({ name: 'fixed', subnet: '10.200.0.0/16', internal: true, dataRoot });
  // A host route of this namespace: a dummy interface's subnet.
  execFileSync('sh', ['-c', 'ip link add tdummy0 type bridge && ip addr add 192.168.77.1/24 dev tdummy0 && ip link set tdummy0 up']);
  const errors = {
    duplicate: await caught(() => Network.create({ name: 'ci', dataRoot })),
    overlapsNetwork: await caught(() => Network.create({ name: 'x1', subnet: '10.200.5.0/24', dataRoot })),
    overlapsRoute: await caught(() => Network.create({ name: 'x2', subnet: '192.168.0.0/16', dataRoot })),
    tooSmall: await caught(() => Network.create({ name: 'x3', subnet: '10.1.0.0/30', dataRoot })),
    hostBits: await caught(() => Network.create({ name: 'x4', subnet: '10.1.0.1/24', dataRoot })),
    badName: await caught(() => Network.create({ name: '../etc', dataRoot })),
    notFound: await caught(() => Network.get('nope', { dataRoot })),
    unknownOnSpawn: await caught(() => new Container({ ...base, network: 'nope' }).spawn(['true']).output()),
  };
  const afterRefusals = (await Network.list({ dataRoot })).map((n) => n.name);
  const stateLeft = fs.existsSync(stateRoot) ? fs.readdirSync(stateRoot).filter((f) => !f.startsWith('.')) : [];
  // The environment's data root, when no option names one.
  const envRoot = tempDir('tsc-net-env-');
  process.env.TS_CONTAINER_DATA_ROOT = envRoot;
  const fromEnv = await Network.create({ name: 'envnet' });
  const envFiles = fs.readdirSync(path.join(envRoot, 'networks')).filter((f) => f.endsWith('.conflist'));
  await fromEnv.remove();
  delete process.env.TS_CONTAINER_DATA_ROOT;
  // NAT by its rules: a network with outbound NAT has a MASQUERADE chain for its subnet while
  // a member is attached, an internal network none.
  const onCi = new Container({ ...base, network: 'ci' });
  const onFixed = new Container({ ...base, network: 'fixed' });
  await Promise.all([onCi.spawn(['sleep', '1000']).started, onFixed.spawn(['sleep', '1000']).started]);
  const ciNet = await onCi.networks();
  const fixedNet = await onFixed.networks();
  const nat = execFileSync('iptables', ['-w', '-t', 'nat', '-S'], { encoding: 'utf8' });
  const masquerade = (network: Network) => {
    const chain = nat.split('\n').find((line) => line.startsWith(`-A POSTROUTING -s ${network.subnet} -j `))?.split(' ').pop();
    return chain !== undefined && nat.split('\n').some((line) => line.startsWith(`-A ${chain} `) && line.endsWith('-j MASQUERADE'));
  };
  const inUse = await caught(() => ci.remove());
  const checked = await caught(() => onCi.checkNetworks());
  // CHECK finds what was changed behind the plugins' back: the internal member's address taken away.
  execFileSync('nsenter', [`--net=${path.join(dataRoot, 'networks', 'netns', onFixed.id)}`, 'ip', 'addr', 'flush', 'dev', 'eth0']);
  const checkedBroken = await caught(() => onFixed.checkNetworks());
  const listed = (await Network.list({ dataRoot })).map((n) => n.toJSON());
  const rulesWhileUp = iptablesRules();
  await ci.remove({ force: true });
  const afterForce = { ciListed: (await Network.list({ dataRoot })).some((n) => n.name === 'ci'), bridge: linkExists(ci.bridge) };
  await onCi.destroy();
  await onFixed.destroy();
  await second.remove();
  await fixed.remove();
  const forwardChain = () => iptablesRules().split('\n').filter((l) => l.includes('TSC-FORWARD'));
  const forwardAfterLastRemove = forwardChain();
  // What a process killed after removing the last network's rules, before the chain, leaves:
  // the next network operation of a data root without networks (a refused spawn) sweeps it.
  execFileSync('sh', ['-c', 'iptables -w -N TSC-FORWARD && iptables -w -I FORWARD 1 -j TSC-FORWARD']);
  const forwardLeftover = forwardChain();
  const sweptBySpawn = await caught(() => new Container({ ...base, network: 'nope' }).spawn(['true']).output());
  const forwardAfterSweep = forwardChain();
  return {
    forwardAfterLastRemove,
    forwardLeftover,
    sweptBySpawn,
    forwardAfterSweep,
    ci: ci.toJSON(),
    second: second.toJSON(),
    fixed: fixed.toJSON(),
    errors,
    afterRefusals,
    stateLeft,
    envFiles,
    ciNet,
    fixedNet,
    masquerade: { ci: masquerade(ci), fixed: masquerade(fixed) },
    inUse,
    checked,
    checkedBroken,
    listed,
    isolationChainWhileUp: rulesWhileUp.includes(`-A TSC-FORWARD -i ${ci.bridge} -j TSC-ISO-`),
    afterForce,
    remaining: (await Network.list({ dataRoot })).map((n) => n.name),
    bridgesLeft: [ci, second, fixed].filter((n) => linkExists(n.bridge)).map((n) => n.bridge),
    chainsLeft: iptablesRules().split('\n').filter((l) => l.includes('TSC-ISO-') || l.includes('TSC-MASQ-')),
    after: leftovers(dataRoot),
  };
}

/** Two containers talk by name both ways, TCP and UDP; a later member resolves; another network is cut off. */
/** Sends `message` from the test host to host:port, retrying until something listens there. */
async function sendWithRetry(host: string, port: number, message: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const sent = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => socket.end(`${message}\n`));
      socket.on('error', () => resolve(false));
      socket.on('close', (hadError) => resolve(!hadError));
    });
    if (sent) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

export async function talk(): Promise<unknown> {
  const { dataRoot, base } = roots();
  const udp = udpPeerMount();
  const opts = { ...base, mounts: [udp] };
  const ci = await Network.create({ name: 'ci', dataRoot });
  const other = await Network.create({ name: 'other', dataRoot });
  const alpha = new Container({ ...opts, network: { name: 'ci', aliases: ['alpha'] } });
  const bravo = new Container({ ...opts, network: { name: 'ci', aliases: ['bravo'] } });
  const outsider = new Container({ ...opts, network: 'other' });
  await Promise.all([alpha, bravo, outsider].map((c) => c.spawn(['sleep', '1000']).started));
  const alphaAddress = (await alpha.networks())[0].addresses[0].split('/')[0];
  const tcp = async (server: Container, client: Container, host: string, message: string) => {
    const served = execText(server, 'nc -l -p 7000');
    const sent = await execText(client, CONNECT(host, 7000, message));
    return { sent, received: (await served).stdout };
  };
  const udpTalk = async (server: Container, client: Container, host: string, message: string) => {
    const served = execText(server, 'udp-peer serve 7001');
    const asked = await execText(client, `udp-peer ask ${host} 7001 ${message}`);
    return { asked, received: (await served).stdout };
  };
  const tcpAtoB = await tcp(bravo, alpha, 'bravo', 'a-to-b');
  const tcpBtoA = await tcp(alpha, bravo, 'alpha', 'b-to-a');
  const tcpById = await tcp(alpha, bravo, alpha.id, 'by-id');
  const udpAtoB = await udpTalk(bravo, alpha, 'bravo', 'a-to-b');
  const udpBtoA = await udpTalk(alpha, bravo, 'alpha', 'b-to-a');
  // A member that joins later: the earlier ones resolve it at once, nothing restarted.
  const late = new Container({ ...opts, network: { name: 'ci', aliases: ['late'] } });
  await late.spawn(['sleep', '1000']).started;
  const tcpToLate = await tcp(late, alpha, 'late', 'to-late');
  // The outsider: no name for them, and their address unreachable, TCP and UDP, while alpha listens.
  const listening = execText(alpha, 'nc -l -p 7000');
  const outsiderResolves = await execText(outsider, 'grep -c alpha /etc/hosts');
  const udpListening = execText(alpha, 'udp-peer serve 7003');
  const outsiderTcp = await execText(outsider, `echo x | nc -w 1 ${alphaAddress} 7000`);
  const outsiderUdp = await execText(outsider, `udp-peer ask ${alphaAddress} 7003 x 10`);
  // alpha was listening all along: bravo still gets through (its server takes one datagram:
  // had the outsider's come through, it would have printed that one and bravo's would fail).
  const stillListening = await execText(bravo, CONNECT('alpha', 7000, 'after-outsider'));
  const listened = (await listening).stdout;
  const stillListeningUdp = await execText(bravo, 'udp-peer ask alpha 7003 after-outsider');
  const listenedUdp = (await udpListening).stdout;
  // And the other way: a member does not reach the outsider, which listens all along (the
  // test host, the gateway of both bridges, gets through).
  const outsiderAddress = (await outsider.networks())[0].addresses[0].split('/')[0];
  const outsiderListening = execText(outsider, 'nc -l -p 7002');
  const toOutsiderTcp = await execText(alpha, `echo x | nc -w 1 ${outsiderAddress} 7002`);
  const fromTestHost = await sendWithRetry(outsiderAddress, 7002, 'from-test-host');
  const outsiderListened = (await outsiderListening).stdout;
  const outsiderListeningUdp = execText(outsider, 'udp-peer serve 7004');
  const toOutsiderUdp = await execText(alpha, `udp-peer ask ${outsiderAddress} 7004 x 10`);
  const fromTestHostUdp = await askUdp(outsiderAddress, 7004, 'from-test-host');
  const outsiderListenedUdp = (await outsiderListeningUdp).stdout;
  const hostsOfAlpha = await execText(alpha, 'cat /etc/hosts');
  for (const c of [alpha, bravo, outsider, late]) await c.destroy();
  const after = leftovers(dataRoot);
  await ci.remove();
  await other.remove();
  return {
    tcpAtoB, tcpBtoA, tcpById, udpAtoB, udpBtoA, tcpToLate, outsiderResolves, outsiderTcp, outsiderUdp, stillListening, listened, hostsOfAlpha, after,
    toOutsiderTcp, fromTestHost, outsiderListened, stillListeningUdp, listenedUdp, toOutsiderUdp, fromTestHostUdp, outsiderListenedUdp,
  };
}

/**
 * `count` containers on one network at once: each resolves every other by id (getaddrinfo,
 * no traffic: pinging every pair would overflow the kernel's neighbour table, which all
 * namespaces share) and reaches the next one; then nothing is left.
 */
export async function many({ count }: { count: number }): Promise<unknown> {
  const { dataRoot, base } = roots();
  const net = await Network.create({ name: 'many', dataRoot });
  const containers = Array.from({ length: count }, () => new Container({ ...base, mounts: [udpPeerMount()], network: 'many' }));
  await Promise.all(containers.map((c) => c.spawn(['sleep', '1000']).started));
  const addresses = new Map<string, string>();
  for (const c of containers) addresses.set(c.id, (await c.networks())[0].addresses[0].split('/')[0]);
  const ids = containers.map((c) => c.id);
  const failures: string[] = [];
  await Promise.all(
    containers.map(async (c, i) => {
      const resolved = await execText(c, `udp-peer resolve ${ids.filter((id) => id !== c.id).join(' ')}`);
      for (const line of resolved.stdout.split('\n')) {
        const [name, address] = line.split(' ');
        if (address !== addresses.get(name)) failures.push(`${c.id} resolves ${name} as ${address}, not ${addresses.get(name)}`);
      }
      const next = ids[(i + 1) % ids.length];
      const reached = await execText(c, `for t in 1 2 3 4 5; do ping -c 1 -W 2 ${next} >/dev/null && exit 0; done; exit 1`);
      if (reached.exitCode !== 0) failures.push(`${c.id} does not reach ${next}`);
    }),
  );
  const whileUp = leftovers(dataRoot);
  await Promise.all(containers.map((c) => c.destroy()));
  const after = leftovers(dataRoot);
  await net.remove();
  return { failures, whileUp, after };
}

/** A plugin binary missing: CniPluginError before the program runs, and nothing left. */
export async function missingPlugin(): Promise<unknown> {
  const { dataRoot, base } = roots();
  const net = await Network.create({ name: 'ci', dataRoot });
  const cniDir = tempDir('tsc-cni-');
  for (const plugin of ['host-local', 'portmap']) fs.symlinkSync(`/usr/lib/cni/${plugin}`, path.join(cniDir, plugin));
  const marker = tempDir('tsc-ran-');
  process.env.CNI_PATH = cniDir;
  const c = new Container({ ...base, network: 'ci', mounts: [{ type: 'bind', source: marker, target: '/mnt' }] });
  const error = await caught(() => c.spawn(['touch', '/mnt/ran']).output());
  delete process.env.CNI_PATH;
  const ran = fs.existsSync(path.join(marker, 'ran'));
  const state = fs.existsSync(base.stateRoot as string) ? fs.readdirSync(base.stateRoot as string).filter((f) => !f.startsWith('.')) : [];
  const after = leftovers(dataRoot);
  await net.remove();
  return { error, ran, state, after };
}

/** A network's mtu: its members' eth0 have it; an mtu out of range is refused by name. */
export async function mtu(): Promise<unknown> {
  const { dataRoot, base } = roots();
  const net = await Network.create({ name: 'jumbo', mtu: 9000, dataRoot });
  const c = new Container({ ...base, network: 'jumbo' });
  const out = await c.spawn(['cat', '/sys/class/net/eth0/mtu'], { stdio: 'pipe' }).output();
  await c.destroy();
  const refused = await caught(() => Network.create({ name: 'tiny', mtu: 100, dataRoot }));
  const names = (await Network.list({ dataRoot })).map((n) => `${n.name}:${n.mtu}`);
  await net.remove();
  return { mtu: out.stdout.toString().trim(), refused, names, after: leftovers(dataRoot) };
}

/** A /29 holds five members: the sixth fails with SubnetError before its program runs, leaving nothing. */
export async function exhaustedSubnet(): Promise<unknown> {
  const { dataRoot, base } = roots();
  const net = await Network.create({ name: 'small', subnet: '10.77.0.0/29', dataRoot });
  const members: Container[] = [];
  for (let i = 0; i < 5; i++) {
    const c = new Container({ ...base, network: 'small' });
    await c.spawn(['sleep', '1000']).started;
    members.push(c);
  }
  const marker = tempDir('tsc-ran-');
  const sixth = new Container({ ...base, network: 'small', mounts: [{ type: 'bind', source: marker, target: '/mnt' }] });
  const error = await caught(() => sixth.spawn(['touch', '/mnt/ran']).output());
  const ran = fs.existsSync(path.join(marker, 'ran'));
  const listed = (await Network.get('small', { dataRoot })).containers.length;
  const addresses = (await Promise.all(members.map((m) => m.networks()))).map((n) => n[0].addresses[0]).sort();
  await Promise.all(members.map((m) => m.destroy()));
  const after = leftovers(dataRoot);
  await net.remove();
  return { error, ran, listed, addresses, sixthId: sixth.id, after };
}

/**
 * kill -9 of the process that attaches a container, at `step`; then a network operation of
 * this process (another container joining) sweeps what it left.
 */
export async function crashAt({ step }: { step: string }): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const net = await Network.create({ name: 'ci', dataRoot });
  const pauseFile = path.join(dataRoot, '..', 'paused');
  // At 'network-deleting' the maker dies in its destroy(); at the others, while attaching.
  const body =
    `const c = new Container(${JSON.stringify({ ...base, network: 'ci' })});\n` +
    `await c.spawn(['sleep', '1000']).started;\n` +
    (step === 'network-deleting' ? 'await c.destroy();\n' : '') +
    'await new Promise(() => {});';
  const child = startScript(
    body,
    { TS_CONTAINER_TEST_PAUSE_AT: step, TS_CONTAINER_TEST_PAUSE_FILE: pauseFile },
  );
  let output = '';
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitForFile(pauseFile, 30000).catch((error: Error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  const before = leftovers(dataRoot);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('close', resolve));
  // The container dies with its maker: wait until its processes are gone (its cgroup empties).
  await Container.list({ stateRoot }).then((list) => Promise.all(list.map((e) => Container.remove(e.id, { stateRoot, force: true }).catch(() => undefined))));
  // The next network operation of any process: another container joins and leaves.
  const next = new Container({ ...base, network: 'ci' });
  await next.spawn(['true']).wait();
  await next.destroy();
  const after = leftovers(dataRoot);
  const pins = fs.existsSync(path.join(dataRoot, 'networks', 'netns')) ? fs.readdirSync(path.join(dataRoot, 'networks', 'netns')) : [];
  await net.remove();
  return { before, after, pins };
}

/** A detached member of ci (alias dee) restarted once after a failure; `marks` is its /mnt. */
function restartedOnce(base: ContainerOptions, marks: string): Container {
  return new Container({ ...base, network: { name: 'ci', aliases: ['dee'] }, detach: true, restart: 'on-failure:1', mounts: [{ type: 'bind', source: marks, target: '/mnt' }] });
}

/**
 * A detached container on a network, restarted by its monitor: the monitor runs DEL and ADD
 * in the new namespace (same address, same names) before the program goes on, and DEL when
 * it stops for good.
 */
export async function detached(): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const net = await Network.create({ name: 'ci', dataRoot });
  const marks = tempDir('tsc-marks-');
  const peer = new Container({ ...base, network: 'ci' });
  await peer.spawn(['sleep', '1000']).started;
  const peerOnly = leftovers(dataRoot);
  const d = restartedOnce(base, marks);
  // The first run exits 1 (the monitor restarts it); the second serves.
  // The second serves one connection after another: a connection the peer made while the
  // restarted program was not listening yet is tried again (under load, one was seen lost).
  const script = 'ip -o -4 addr show eth0 >> /mnt/addresses; if [ -f /mnt/once ]; then while :; do nc -l -p 7000 >> /mnt/received; done; fi; touch /mnt/once; exit 1';
  await d.spawn(['sh', '-c', script]).started;
  const first = await d.networks();
  let state = await d.state();
  for (let i = 0; i < 400 && state.restartCount < 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    state = await d.state();
  }
  const second = await d.networks();
  // What the restarted server received, written by it into the shared directory (not its log).
  const receivedPath = path.join(marks, 'received');
  let received = '';
  let reached = await execText(peer, CONNECT('dee', 7000, 'after-restart'));
  for (let attempt = 0; attempt < 5 && reached.exitCode === 0; attempt++) {
    for (let i = 0; i < 80 && !received.includes('after-restart'); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 25));
      received = fs.existsSync(receivedPath) ? fs.readFileSync(receivedPath, 'utf8') : '';
    }
    if (received.includes('after-restart')) break;
    reached = await execText(peer, CONNECT('dee', 7000, 'after-restart'));
  }
  const addresses = fs.readFileSync(path.join(marks, 'addresses'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[3]);
  await d.destroy();
  const afterDestroy = leftovers(dataRoot);
  await peer.destroy();
  const after = leftovers(dataRoot);
  await net.remove();
  return { first, second, restartCount: state.restartCount, reached, received, addresses, peerOnly, afterDestroy, after, stateLeft: fs.readdirSync(stateRoot).filter((f) => !f.startsWith('.')) };
}

/**
 * A detached member restarted while its address was taken: the monitor's ADD gives it another
 * one, and every member's /etc/hosts (its own too) names the new one; the attachment that
 * net.connect() added comes back in the new namespace as well, with its aliases.
 */
export async function restartedElsewhere(): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const ci = await Network.create({ name: 'ci', dataRoot });
  const side = await Network.create({ name: 'side', dataRoot });
  const marks = tempDir('tsc-marks-');
  const peer = new Container({ ...base, network: 'ci' });
  const sidePeer = new Container({ ...base, network: 'side' });
  await Promise.all([peer.spawn(['sleep', '1000']).started, sidePeer.spawn(['sleep', '1000']).started]);
  const d = restartedOnce(base, marks);
  // The first run waits for /mnt/go and exits 1; the second notes its interfaces and stays.
  const script = 'if [ -f /mnt/once ]; then ip -o -4 addr show > /mnt/second; exec sleep 1000; fi; touch /mnt/once; ' +
    'while [ ! -f /mnt/go ]; do sleep 0.05; done; exit 1';
  await d.spawn(['sh', '-c', script]).started;
  await side.connect(d, { aliases: ['dee-side'] });
  const addressOn = (infos: { network: string; addresses: string[] }[], network: string) =>
    infos.find((i) => i.network === network)?.addresses[0]?.split('/')[0];
  const first = await d.networks();
  const firstCi = addressOn(first, 'ci') as string;
  const firstSide = addressOn(first, 'side') as string;
  // Another container takes both addresses while d is down: a reservation of host-local's
  // under another id, which d's DEL leaves and its ADD then finds taken.
  const squatted = [path.join(dataRoot, 'cni', 'ipam', 'ci', firstCi), path.join(dataRoot, 'cni', 'ipam', 'side', firstSide)];
  for (const file of squatted) fs.writeFileSync(file, 'squatter\r\neth0');
  fs.writeFileSync(path.join(marks, 'go'), '');
  let state = await d.state();
  for (let i = 0; i < 400 && !(state.restartCount >= 1 && fs.existsSync(path.join(marks, 'second'))); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    state = await d.state();
  }
  if (!fs.existsSync(path.join(marks, 'second'))) throw new Error(`no second run: ${fs.readFileSync(path.join(stateRoot, d.id, 'run.json'), 'utf8')}`);
  const second = await d.networks();
  // The object that spawned it knows the first run's process: exec goes through a fresh one.
  const restarted = await Container.get(d.id, { stateRoot });
  const secondCi = addressOn(second, 'ci') as string;
  const secondSide = addressOn(second, 'side') as string;
  const hostsLine = (text: string, address: string) => text.split('\n').find((l) => l.startsWith(`${address}\t${d.id}`));
  const peerHosts = (await execText(peer, 'cat /etc/hosts')).stdout;
  const sidePeerHosts = (await execText(sidePeer, 'cat /etc/hosts')).stdout;
  const ownHosts = (await execText(restarted, 'cat /etc/hosts')).stdout;
  const servedCi = execText(restarted, 'nc -l -p 7000');
  const reachedCi = await execText(peer, CONNECT('dee', 7000, 'over-ci'));
  const receivedCi = (await servedCi).stdout;
  const servedSide = execText(restarted, 'nc -l -p 7001');
  const reachedSide = await execText(sidePeer, CONNECT('dee-side', 7001, 'over-side'));
  const receivedSide = (await servedSide).stdout;
  // A network operation's sweep does not take the re-added attachment for an orphan.
  const passer = new Container({ ...base, network: 'side' });
  await passer.spawn(['true']).wait();
  await passer.destroy();
  const sideMembers = (await Network.get('side', { dataRoot })).containers;
  await d.destroy();
  const afterDestroy = { ci: (await Network.get('ci', { dataRoot })).containers, side: (await Network.get('side', { dataRoot })).containers };
  await Promise.all([peer.destroy(), sidePeer.destroy()]);
  for (const file of squatted) fs.rmSync(file);
  const after = leftovers(dataRoot);
  await ci.remove();
  await side.remove();
  return {
    restartCount: state.restartCount,
    first: { ci: firstCi, side: firstSide },
    second: { ci: secondCi, side: secondSide },
    secondInterfaces: fs.readFileSync(path.join(marks, 'second'), 'utf8').split('\n').filter(Boolean).map((l) => `${l.split(/\s+/)[1]} ${l.split(/\s+/)[3]}`),
    peerLine: hostsLine(peerHosts, secondCi),
    peerOldLine: hostsLine(peerHosts, firstCi) ?? null,
    sidePeerLine: hostsLine(sidePeerHosts, secondSide),
    sidePeerOldLine: hostsLine(sidePeerHosts, firstSide) ?? null,
    ownLine: hostsLine(ownHosts, secondCi),
    ownOldLine: hostsLine(ownHosts, firstCi) ?? null,
    reachedCi: reachedCi.exitCode,
    receivedCi,
    reachedSide: reachedSide.exitCode,
    receivedSide,
    sideMembers,
    id: d.id,
    afterDestroy,
    after,
    stateLeft: fs.readdirSync(stateRoot).filter((f) => !f.startsWith('.')),
  };
}

/** A port nobody uses in this test host now. */
async function freePort(type: 'tcp' | 'udp'): Promise<number> {
  if (type === 'udp') {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connects to address:port until an answer comes (the server in the container may not listen yet). */
async function fetchTcp(address: string, port: number): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const text = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: address, port });
      let data = '';
      socket.setTimeout(2000, () => socket.destroy());
      socket.on('data', (d) => (data += d.toString()));
      socket.on('error', () => resolve(''));
      socket.on('close', () => resolve(data));
    });
    if (text !== '') return text.trim();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return '';
}

async function askUdp(address: string, port: number, message: string): Promise<string> {
  const socket = dgram.createSocket('udp4');
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const reply = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve(''), 50);
        socket.once('message', (m) => {
          clearTimeout(timer);
          resolve(m.toString());
        });
        socket.send(message, port, address);
      });
      if (reply !== '') return reply;
    }
    return '';
  } finally {
    socket.close();
  }
}

/** Published ports: from 127.0.0.1 and a host address, TCP and UDP, hairpin; taken ports refused. */
export async function ports(): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const opts = { ...base, mounts: [udpPeerMount()] };
  const ci = await Network.create({ name: 'ci', dataRoot });
  // An address of the test host besides 127.0.0.1: one end of a veth pair of its own.
  execFileSync('sh', ['-c', 'ip link add tpv0 type veth peer name tpv1 && ip addr add 192.168.99.1/24 dev tpv0 && ip link set tpv0 up && ip link set tpv1 up']);
  const tcpPort = await freePort('tcp');
  const udpPort = await freePort('udp');
  const web = new Container({ ...opts, network: 'ci', ports: [{ host: tcpPort, container: 80 }, { host: udpPort, container: 81, protocol: 'udp' }] });
  await web.spawn(['sleep', '1000']).started;
  const client = new Container({ ...opts, network: 'ci' });
  await client.spawn(['sleep', '1000']).started;
  const serveOnce = (text: string) => execText(web, `echo ${text} | nc -l -p 80`);
  let served = serveOnce('via-loopback');
  const viaLoopback = await fetchTcp('127.0.0.1', tcpPort);
  await served;
  served = serveOnce('via-host-address');
  const viaHostAddress = await fetchTcp('192.168.99.1', tcpPort);
  await served;
  served = serveOnce('via-hairpin');
  const viaHairpin = await execText(client, `for i in $(seq 100); do out=$(nc -w 2 192.168.99.1 ${tcpPort} </dev/null) && [ -n "$out" ] && echo $out && exit 0; sleep 0.05; done; exit 1`);
  await served;
  const udpServed = execText(web, 'udp-peer serve 81');
  const viaUdp = await askUdp('127.0.0.1', udpPort, 'udp-hello');
  await udpServed;
  // Taken by another container, then by a host process: refused before the program runs.
  const marker = tempDir('tsc-ran-');
  const again = new Container({ ...opts, network: 'ci', ports: [{ host: tcpPort, container: 80 }], mounts: [{ type: 'bind', source: marker, target: '/mnt' }] });
  const takenByContainer = await caught(() => again.spawn(['touch', '/mnt/ran']).output());
  const hostServer = net.createServer();
  const hostPort = await freePort('tcp');
  await new Promise<void>((resolve) => hostServer.listen(hostPort, '127.0.0.1', resolve));
  const third = new Container({ ...opts, network: 'ci', ports: [{ host: hostPort, container: 80, hostIp: '127.0.0.1' }], mounts: [{ type: 'bind', source: marker, target: '/mnt' }] });
  const takenByHost = await caught(() => third.spawn(['touch', '/mnt/ran']).output());
  await new Promise<void>((resolve) => hostServer.close(() => resolve()));
  const ran = fs.existsSync(path.join(marker, 'ran'));
  const states = fs.readdirSync(stateRoot).filter((f) => !f.startsWith('.')).length;
  await web.destroy();
  await client.destroy();
  // The port is free again once its container is gone.
  const freedPort = await caught(async () => {
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(tcpPort, resolve));
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });
  execFileSync('ip', ['link', 'del', 'tpv0']);
  const after = leftovers(dataRoot);
  const portmapRules = iptablesRules().split('\n').filter((l) => l.includes(`--dport ${tcpPort}`) || l.includes(`--dport ${udpPort}`));
  await ci.remove();
  return { tcpPort, viaLoopback, viaHostAddress, viaHairpin, viaUdp, takenByContainer, takenByHost, ran, states, freedPort, after, portmapRules };
}

/** The command line: network create/ls/inspect/rm, run --network/--network-alias/-p (detached too). */
export async function cli(): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const bin = path.join(__dirname, '..', '..', 'dist', 'cli.js');
  const tsc = (...args: string[]) => {
    try {
      return { code: 0, stdout: execFileSync(process.execPath, [bin, '--root', stateRoot, '--data-root', dataRoot, ...args], { encoding: 'utf8', stdio: 'pipe' }) };
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      return { code: e.status, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const created = tsc('network', 'create', '--subnet', '10.66.0.0/24', 'ci');
  const listed = tsc('network', 'ls');
  const hosts = tsc('run', '--rootfs', base.rootfs as string, '--network', 'ci', '--network-alias', 'web', '--', 'cat', '/etc/hosts');
  const port = await freePort('tcp');
  const detached = tsc('run', '-d', '--rootfs', base.rootfs as string, '--network', 'ci', '-p', `127.0.0.1:${port}:80`, '--', 'sh', '-c', 'echo from-detached | nc -l -p 80; exec sleep 1000');
  const fetched = await fetchTcp('127.0.0.1', port);
  const inspectedWhileUp = JSON.parse(tsc('network', 'inspect', 'ci').stdout) as { containers: string[] }[];
  const detachedId = detached.stdout.trim();
  const ports = { all: tsc('port', detachedId), one: tsc('port', detachedId, '80'), absent: tsc('port', detachedId, '81/udp') };
  // connect from a CLI that exits at once: the attachment is the container's and outlives it,
  // through the sweep that the next network operation runs.
  const createdWithMtu = tsc('network', 'create', '--mtu', '9000', 'ci2');
  const listedWithMtu = tsc('network', 'ls');
  const connected = tsc('network', 'connect', '--alias', 'al', 'ci2', detachedId);
  const memberHosts = tsc('run', '--rm', '--rootfs', base.rootfs as string, '--network', 'ci2', '--', 'cat', '/etc/hosts');
  const connectedLink = tsc('exec', detachedId, 'ip', '-o', 'link', 'show', 'eth1');
  const listedOnCi2 = (JSON.parse(tsc('network', 'inspect', 'ci2').stdout) as { containers: string[] }[])[0].containers;
  const connectedTwice = tsc('network', 'connect', 'ci2', detachedId);
  const disconnected = tsc('network', 'disconnect', 'ci2', detachedId);
  const linkAfterDisconnect = tsc('exec', detachedId, 'ip', '-o', 'link', 'show', 'eth1');
  const disconnectedTwice = tsc('network', 'disconnect', 'ci2', detachedId);
  const connectMissing = tsc('network', 'connect', 'ci2', 'no-such-container');
  // Connected again, then deleted: its attachment goes with it.
  const reconnected = tsc('network', 'connect', 'ci2', detachedId);
  // An attached container whose maker is this process, connected by the CLI: DEL at destroy.
  const attached = new Container({ ...base, network: 'ci' });
  await attached.spawn(['sleep', '1000']).started;
  const attachedConnected = tsc('network', 'connect', 'ci2', attached.id);
  const attachedNetworks = (await attached.networks()).map((n) => `${n.network}/${n.interface}`);
  await attached.destroy();
  const ci2AfterAttachedDestroy = (await Network.get('ci2', { dataRoot })).containers;
  const inUse = tsc('network', 'rm', 'ci');
  const removedContainer = tsc('delete', '-f', detached.stdout.trim());
  const ci2AfterDelete = (await Network.get('ci2', { dataRoot })).containers;
  const removed = tsc('network', 'rm', 'ci');
  const inspectMissing = tsc('network', 'inspect', 'ci');
  const after = leftovers(dataRoot);
  tsc('network', 'rm', 'ci2');
  return {
    created, listed, hosts, detached, fetched, inspectedWhileUp, inUse, removedContainer, removed, inspectMissing, after,
    port, detachedId, ports, connected, memberHosts, connectedLink, listedOnCi2, connectedTwice, disconnected, linkAfterDisconnect,
    createdWithMtu, listedWithMtu, disconnectedTwice, connectMissing, reconnected, attachedConnected, attachedNetworks, ci2AfterAttachedDestroy, ci2AfterDelete,
  };
}

/** kill -9 of a detached container's monitor: the next network operation sweeps what it held. */
export async function monitorKilled(): Promise<unknown> {
  const { dataRoot, stateRoot, base } = roots();
  const net = await Network.create({ name: 'ci', dataRoot });
  const d = new Container({ ...base, network: 'ci', detach: true });
  await d.spawn(['sleep', '1000']).started;
  const run = JSON.parse(fs.readFileSync(path.join(stateRoot, d.id, 'run.json'), 'utf8')) as { monitorPid: number };
  const before = leftovers(dataRoot);
  process.kill(run.monitorPid, 'SIGKILL');
  // Its container dies with it; what the state root holds of it goes by the usual remove.
  await Container.remove(d.id, { stateRoot, force: true });
  const next = new Container({ ...base, network: 'ci' });
  await next.spawn(['true']).wait();
  await next.destroy();
  const after = leftovers(dataRoot);
  const pins = fs.readdirSync(path.join(dataRoot, 'networks', 'netns'));
  await net.remove();
  return { before, after, pins };
}

/** net.connect() of a running container to a second network, then net.disconnect(). */
export async function connectDisconnect(): Promise<unknown> {
  const { dataRoot, base } = roots();
  const a = await Network.create({ name: 'a', dataRoot });
  const b = await Network.create({ name: 'b', dataRoot });
  const alpha = new Container({ ...base, network: 'a' });
  const bravo = new Container({ ...base, network: { name: 'b', aliases: ['bee'] } });
  await Promise.all([alpha.spawn(['sleep', '1000']).started, bravo.spawn(['sleep', '1000']).started]);
  await b.connect(alpha, { aliases: ['al'] });
  const twice = await caught(() => b.connect(alpha));
  const networks = await alpha.networks();
  const served = execText(alpha, 'nc -l -p 7000');
  const bravoToAlpha = await execText(bravo, CONNECT('al', 7000, 'to-connected'));
  const received = (await served).stdout;
  const alphaResolvesBee = await execText(alpha, 'grep -c " bee$" /etc/hosts');
  const listedB = (await Network.get('b', { dataRoot })).containers;
  await b.disconnect(alpha);
  const afterDisconnect = {
    links: (await execText(alpha, 'ip -o link show')).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]),
    bravoHosts: (await execText(bravo, 'cat /etc/hosts')).stdout,
    networks: await alpha.networks(),
    listedB: (await Network.get('b', { dataRoot })).containers,
  };
  await Promise.all([alpha.destroy(), bravo.destroy()]);
  const after = leftovers(dataRoot);
  await a.remove();
  await b.remove();
  return { twice, networks, bravoToAlpha, received, alphaResolvesBee, listedB, afterDisconnect, after, alphaId: alpha.id, bravoId: bravo.id };
}
