/**
 * Scenarios of test/namespace-sharing.test.ts, each run inside a test network namespace of
 * its own (runInTestNetwork): containers that share another container's network namespace,
 * and pods. Each returns what it saw; the test file asserts on it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Container, Pod } from '../../lib';
import { containerLeftovers, leftoverCount } from './container-leftovers';
import { collect, startScript, waitForFile } from './node-script';

export interface ScenarioArgs {
  rootfs: string;
  stateRoot: string;
  dataRoot: string;
  cgroupParent: string;
  port: number;
  tag: string;
}

interface Failure {
  name: string;
  code: string;
  message: string;
}

async function failureOf(promise: Promise<unknown>): Promise<Failure | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    const e = error as Error & { code?: string };
    return { name: e.name, code: e.code ?? '', message: e.message };
  }
}

async function sh(c: Container, script: string): Promise<string> {
  const out = await c.spawn(['sh', '-c', script], { stdio: 'pipe' }).output();
  if (out.exitCode !== 0) throw new Error(`${script}: exit ${out.exitCode}: ${out.stderr}`);
  return out.stdout;
}

async function execText(c: Container, argv: string[]): Promise<string> {
  const out = await c.exec(argv, { stdio: 'pipe' }).output();
  if (out.exitCode !== 0) throw new Error(`${argv.join(' ')}: exit ${out.exitCode}: ${out.stderr}`);
  return out.stdout.trim();
}

/** What a TCP server at host:port sends before it closes (from this process: the test host). */
async function readFrom(host: string, port: number): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect({ host, port }, () => socket.end());
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.trim()));
  });
}

/** A shell line that waits until something listens on the TCP port of this network namespace. */
function untilListening(port: number): string {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  // busybox nc listens on an IPv6 socket (both families): it shows in tcp6.
  return `until grep -qE ':${hex} 0+:0000 0A' /proc/net/tcp /proc/net/tcp6; do sleep 0.02; done`;
}

/** A server container, and one that joins its network namespace and talks to it over 127.0.0.1. */
export async function joinedNetwork(args: ScenarioArgs) {
  const { rootfs, stateRoot, cgroupParent, port } = args;
  // It gives its namespace an address of its own (the joiner must see it), serves one reply,
  // then stays up for the rest of the scenario.
  await using server = new Container({ id: `srv-${args.tag}`, rootfs, stateRoot, cgroupParent, capabilities: { add: ['CAP_NET_ADMIN'] } });
  const serving = server.spawn(['sh', '-c', `ip addr add 10.123.45.67/32 dev lo && echo hello-from-server | nc -l -p ${port}; echo served; exec sleep 1000`], { stdio: 'pipe' });
  const served = new Promise<string>((resolve) => serving.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())));
  await serving.started;
  await using client = new Container({ id: `cli-${args.tag}`, rootfs, stateRoot, cgroupParent, network: { container: server } });
  const clientNs = await sh(client, `${untilListening(port)}; readlink /proc/self/ns/net; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; readlink /proc/self/ns/uts; nc 127.0.0.1 ${port} </dev/null; ip addr`);
  const [clientNet, clientPid, clientMnt, clientUts, reply, ...clientAddr] = clientNs.trim().split('\n');
  // A second client, joined by id, stays running: exec'd processes share the network too.
  await using byId = new Container({ id: `id-${args.tag}`, rootfs, stateRoot, cgroupParent, network: { container: server.id } });
  const longRunning = byId.spawn(['sleep', '1000']);
  await longRunning.started;
  const serverIp = await execText(server, ['sh', '-c', 'readlink /proc/self/ns/net; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; readlink /proc/self/ns/uts; ip addr']);
  const [serverNet, serverPid, serverMnt, serverUts, ...serverAddr] = serverIp.trim().split('\n');
  const execNet = await execText(byId, ['readlink', '/proc/self/ns/net']);
  return {
    server: { net: serverNet, pid: serverPid, mnt: serverMnt, uts: serverUts, addr: serverAddr.join('\n') },
    client: { net: clientNet, pid: clientPid, mnt: clientMnt, uts: clientUts, addr: clientAddr.join('\n'), reply },
    served: await served,
    execNet,
  };
}

/** Joining a container that is not there, or has stopped: typed errors, nothing left of the joiner. */
export async function joinFailures(args: ScenarioArgs) {
  const { rootfs, stateRoot, cgroupParent } = args;
  const missingId = `missing-join-${args.tag}`;
  const missing = await failureOf(new Container({ id: missingId, rootfs, stateRoot, cgroupParent, network: { container: `absent-${args.tag}` } }).spawn(['true']).wait());
  await using stopped = new Container({ id: `stopped-${args.tag}`, rootfs, stateRoot, cgroupParent });
  await stopped.spawn(['true']).wait();
  const stoppedId = `stopped-join-${args.tag}`;
  const ofStopped = await failureOf(new Container({ id: stoppedId, rootfs, stateRoot, cgroupParent, network: { container: stopped } }).spawn(['true']).wait());
  const badPod = await failureOf(new Container({ id: `no-pod-${args.tag}`, rootfs, stateRoot, cgroupParent, pod: `nopod-${args.tag}`, dataRoot: args.dataRoot }).spawn(['true']).wait());
  return {
    missing,
    stopped: ofStopped,
    badPod,
    left: [missingId, stoppedId, `no-pod-${args.tag}`].map((id) => leftoverCount(containerLeftovers(id, stateRoot))),
  };
}

/** Two members of a pod talk over localhost; the pod's hostname, only lo, list/get, remove rules. */
export async function podMembers(args: ScenarioArgs) {
  const { rootfs, stateRoot, dataRoot, cgroupParent, port } = args;
  const name = `pod-${args.tag}`;
  const pod = await Pod.create({ name, dataRoot, stateRoot, cgroupParent });
  const duplicate = await failureOf(Pod.create({ name, dataRoot, stateRoot, cgroupParent }));
  const server = new Container({ id: `pod-srv-${args.tag}`, rootfs, stateRoot, cgroupParent, pod });
  const serving = server.spawn(['sh', '-c', `echo hello-from-pod | nc -l -p ${port}`], { stdio: 'pipe' }).output();
  // A member may name its pod: the data root says where it is kept.
  const client = new Container({ id: `pod-cli-${args.tag}`, rootfs, stateRoot, cgroupParent, pod: name, dataRoot });
  const seen = await sh(client, `${untilListening(port)}; hostname; ip -o link | cut -d: -f2 | tr -d ' '; readlink /proc/self/ns/net; readlink /proc/self/ns/pid; echo $$; nc 127.0.0.1 ${port} </dev/null`);
  const [hostname, links, clientNet, clientPid, clientSelf, reply] = seen.trim().split('\n');
  await serving;
  const sleeper = new Container({ id: `pod-sleep-${args.tag}`, rootfs, stateRoot, cgroupParent, pod });
  const sleeping = sleeper.spawn(['sleep', '1000']);
  await sleeping.started;
  const sleeperNet = await execText(sleeper, ['readlink', '/proc/self/ns/net']);
  const sleeperPid = await execText(sleeper, ['readlink', '/proc/self/ns/pid']);
  // Compared with the pause process's, which lives throughout: the client has ended by now, and
  // a namespace's number is reused once it is freed (the sleeper's may have the client's).
  const pausePid = fs.readlinkSync(`/proc/${(await (await Container.get(pod.pause.id, { stateRoot })).state()).pid}/ns/pid`);
  const listed = (await Pod.list({ dataRoot })).map((p) => p.name);
  const got = (await Pod.get(name, { dataRoot })).pause.id === pod.pause.id;
  const members = await pod.containers();
  const inUse = await failureOf(pod.remove());
  const stillListed = (await Pod.list({ dataRoot })).length;
  await pod.remove({ force: true });
  const sleeperExit = await sleeping.wait();
  const afterForce = {
    pods: (await Pod.list({ dataRoot })).length,
    get: await failureOf(Pod.get(name, { dataRoot })),
    pause: leftoverCount(containerLeftovers(pod.pause.id, stateRoot)),
    podFiles: fs.readdirSync(path.join(dataRoot, 'pods')).filter((f) => !f.startsWith('.')),
  };
  await Promise.all([server.destroy(), client.destroy(), sleeper.destroy()]);
  return {
    duplicate,
    hostname,
    links,
    reply,
    sharedNet: clientNet === sleeperNet,
    ownPid: clientPid !== pausePid && sleeperPid !== pausePid && clientSelf === '1',
    listed,
    got,
    members: members.sort(),
    inUse,
    stillListed,
    sleeperKilled: sleeperExit.signal !== null || sleeperExit.exitCode !== 0,
    afterForce,
  };
}

/** `await using pod`: disposed at the end of the scope with its members gone first. */
export async function podDisposed(args: ScenarioArgs) {
  const { rootfs, stateRoot, dataRoot, cgroupParent } = args;
  let pauseId = '';
  let hostname = '';
  {
    await using pod = await Pod.create({ name: `disp-${args.tag}`.slice(0, 40).replace(/-+$/, ''), dataRoot, stateRoot, cgroupParent });
    pauseId = pod.pause.id;
    await using member = new Container({ rootfs, stateRoot, cgroupParent, pod });
    await member.spawn(['true']).wait();
    // The host's / runs in a user namespace of its own: the pod's IPC namespace is not its to
    // mount mqueue for, and it joins all the same.
    await using hostRoot = new Container({ stateRoot, cgroupParent, pod });
    hostname = await sh(hostRoot, 'hostname');
  }
  return { pods: (await Pod.list({ dataRoot })).length, pause: leftoverCount(containerLeftovers(pauseId, stateRoot)), hostname };
}

/** kill -9 of the pause process, and of the maker mid-create: the next pod operation clears it all. */
export async function podCrashes(args: ScenarioArgs) {
  const { stateRoot, dataRoot, cgroupParent } = args;
  const pod = await Pod.create({ name: `crash-${args.tag}`, dataRoot, stateRoot, cgroupParent });
  const pausePid = (await Container.get(pod.pause.id, { stateRoot }).then((c) => c.state())).pid;
  process.kill(pausePid, 'SIGKILL');
  // The monitor records the exit; until then the pod still looks alive.
  const paused = await Container.get(pod.pause.id, { stateRoot });
  await paused.wait();
  const afterPauseKill = {
    pods: (await Pod.list({ dataRoot })).length,
    pause: leftoverCount(containerLeftovers(pod.pause.id, stateRoot)),
  };
  const makers: Record<string, { pods: number; made: number; left: number; files: string[] }> = {};
  for (const step of ['pod-recorded', 'pod-pause-started']) {
    const pauseFile = path.join(dataRoot, `paused-${step}`);
    const name = `maker-${step.length}-${args.tag}`;
    const child = startScript(
      `await lib.Pod.create({ name: ${JSON.stringify(name)}, dataRoot: ${JSON.stringify(dataRoot)}, stateRoot: ${JSON.stringify(stateRoot)}, cgroupParent: ${JSON.stringify(cgroupParent)} });`,
      { TS_CONTAINER_TEST_PAUSE_AT: step, TS_CONTAINER_TEST_PAUSE_FILE: pauseFile },
    );
    const done = collect(child, 60_000);
    await waitForFile(pauseFile, 60_000);
    child.kill('SIGKILL');
    await done;
    const made = fs.readdirSync(stateRoot).filter((id) => id.startsWith(`${name}-pause-`));
    const pods = (await Pod.list({ dataRoot })).length;
    makers[step] = {
      pods,
      made: made.length,
      left: made.map((id) => leftoverCount(containerLeftovers(id, stateRoot))).reduce((a, b) => a + b, 0),
      files: fs.readdirSync(path.join(dataRoot, 'pods')).filter((f) => !f.startsWith('.')),
    };
  }
  return { afterPauseKill, makers };
}

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The command line: pod create/ls/rm, run --pod, run --network container:ID (the built dist/cli.js). */
export async function podCli(args: ScenarioArgs & { cli: string }) {
  const { spawnSync } = await import('node:child_process');
  const { rootfs, stateRoot, dataRoot, port } = args;
  const cli = (...words: string[]): CliResult => {
    const r = spawnSync(process.execPath, [args.cli, '--root', stateRoot, '--data-root', dataRoot, ...words], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const name = `clipod-${args.tag}`.slice(0, 40).replace(/-+$/, '');
  const server = `cli-srv-${args.tag}`;
  const created = cli('pod', 'create', name);
  const duplicate = cli('pod', 'create', name);
  const serving = cli('run', '-d', '--name', server, '--pod', name, '--rootfs', rootfs, '--', 'sh', '-c', `echo hi-from-pod | nc -l -p ${port}; exec sleep 1000`);
  const member = cli('run', '--rm', '--pod', name, '--rootfs', rootfs, '--', 'sh', '-c', `${untilListening(port)}; hostname; nc 127.0.0.1 ${port} </dev/null`);
  const joined = cli('run', '--rm', '--network', `container:${server}`, '--rootfs', rootfs, '--', 'readlink', '/proc/self/ns/net');
  const serverNet = cli('exec', server, 'readlink', '/proc/self/ns/net');
  const listed = cli('pod', 'ls');
  const names = cli('pod', 'ls', '-q');
  const refused = cli('pod', 'rm', name);
  const forced = cli('pod', 'rm', '-f', name);
  const after = { pods: cli('pod', 'ls', '--json'), containers: cli('list', '-q') };
  const unknownPod = cli('run', '--pod', `nopod-${args.tag}`.slice(0, 40).replace(/-+$/, ''), '--rootfs', rootfs, '--', 'true');
  const badNetwork = cli('run', '--network', 'container:', '--rootfs', rootfs, '--', 'true');
  const badAction = cli('pod', 'frob');
  const aliasWithJoin = cli('run', '--network', 'container:c1', '--network-alias', 'x', '--rootfs', rootfs, '--', 'true');
  return { name, created, duplicate, serving, member, joined, serverNet, listed, names, refused, forced, after, unknownPod, badNetwork, badAction, aliasWithJoin };
}

/**
 * A pod on a network: its pause container is the one attached, so every member has the pod's
 * eth0, and a container on the network reaches a member at the pod's address. After the pod
 * and the network go, nothing of the attachment is left.
 */
export async function podOnNetwork(args: ScenarioArgs) {
  const { Network } = await import('../../lib');
  const { leftovers } = await import('../networks/network-scenarios');
  const { rootfs, stateRoot, dataRoot, cgroupParent, port } = args;
  const net = await Network.create({ name: `pn-${args.tag}`.slice(0, 15).replace(/-+$/, ''), dataRoot });
  // The pod publishes the server's port on the test host, one above it.
  const pod = await Pod.create({
    name: `podnet-${args.tag}`.slice(0, 40).replace(/-+$/, ''),
    network: net.name,
    ports: [{ host: port + 1, container: port, protocol: 'tcp' }],
    dataRoot,
    stateRoot,
    cgroupParent,
  });
  const server = new Container({ rootfs, stateRoot, cgroupParent, dataRoot, pod });
  // A persistent server (-ll): one reply per connection.
  const serving = server.spawn(['nc', '-ll', '-p', String(port), '-e', 'echo', 'hello-over-bridge'], { stdio: 'pipe' });
  await serving.started;
  await using member = new Container({ rootfs, stateRoot, cgroupParent, dataRoot, pod });
  await member.spawn(['sleep', '1000']).started;
  const podAddress = await execText(member, ['sh', '-c', `${untilListening(port)}; ip -o -4 addr show eth0 | awk '{print $4}'`]);
  const address = podAddress.split('/')[0];
  const outsider = new Container({ rootfs, stateRoot, cgroupParent, dataRoot, network: net.name });
  await outsider.spawn(['sleep', '1000']).started;
  // By the pod's name (its hostname): the network's hosts files know the pause container so.
  const reply = await execText(outsider, ['sh', '-c', `nc ${pod.name} ${port} </dev/null`]);
  // A member resolves the outsider, which joined after it, through the pod's hosts file.
  const memberHosts = await execText(member, ['cat', '/etc/hosts']);
  const published = await readFrom('127.0.0.1', port + 1);
  // `ts-container port MEMBER` lists the pod's ports: they reach the namespace it shares.
  const { portCommand } = await import('../../lib/cli/commands/port');
  let portText = '';
  const portStatus = await portCommand({ kind: 'port', id: member.id, stateRoot }, { stdout: { write: (t: string | Uint8Array) => (portText += String(t)) }, stderr: process.stderr, signals: process });
  // A container in the outsider's network namespace resolves as the outsider does.
  await using joiner = new Container({ rootfs, stateRoot, cgroupParent, dataRoot, network: { container: outsider } });
  const joinedReply = (await joiner.spawn(['sh', '-c', `nc ${pod.name} ${port} </dev/null`], { stdio: 'pipe' }).output()).stdout.trim();
  await outsider.destroy();
  const pauseNetworks = await (await Container.get(pod.pause.id, { stateRoot })).networks();
  await pod.remove({ force: true });
  await server.destroy();
  // The next network operation (another container joining) releases what the pause container
  // held, if its monitor had not yet.
  const probe = new Container({ rootfs, stateRoot, cgroupParent, dataRoot, network: net.name });
  await probe.spawn(['true']).wait();
  await probe.destroy();
  const left = leftovers(dataRoot);
  await net.remove();
  return { podAddress, address, reply, published, joinedReply, pauseNetworks, left, memberHosts, outsider: outsider.id, portStatus, portText, port };
}

/** Polls `what` until `ok` holds (a restart happens when the monitor gets to it). */
async function until<T>(what: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15000): Promise<T> {
  for (let waited = 0; ; waited += 20) {
    const value = await what();
    if (ok(value)) return value;
    if (waited > timeoutMs) throw new Error(`not so within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function parentOf(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
}

/**
 * Detached members: their monitor stays in the host's namespaces (the helper left the shared
 * ones after the clone), and a restart joins the pod again. A pod on a network that does not
 * exist fails with nothing left.
 */
export async function podDetachedAndFailures(args: ScenarioArgs) {
  const { rootfs, stateRoot, dataRoot, cgroupParent } = args;
  const hostNet = fs.readlinkSync('/proc/self/ns/net');
  const pod = await Pod.create({ name: `det-${args.tag}`.slice(0, 40).replace(/-+$/, ''), dataRoot, stateRoot, cgroupParent });
  const podNet = fs.readlinkSync(`/proc/${(await (await Container.get(pod.pause.id, { stateRoot })).state()).pid}/ns/net`);
  // With init, the program is not PID 1, which the kernel shields from most signals.
  const member = new Container({ rootfs, stateRoot, cgroupParent, pod, detach: true, restart: 'always', init: true });
  await member.spawn(['sleep', '1000']).started;
  const first = await member.state();
  const monitorNet = fs.readlinkSync(`/proc/${parentOf(first.pid)}/ns/net`);
  const program = await until(() => member.processes(), (ps) => ps.some((p) => p.command === 'sleep 1000'));
  // A crash: the monitor starts it again, joining the pod's namespaces once more.
  process.kill((program.find((p) => p.command === 'sleep 1000') as { pid: number }).pid, 'SIGSEGV');
  const restarted = await until(() => member.state(), (state) => state.status === 'running' && state.pid !== first.pid && state.pid > 0);
  const restartedNet = fs.readlinkSync(`/proc/${restarted.pid}/ns/net`);
  const monitorNetAfter = fs.readlinkSync(`/proc/${parentOf(restarted.pid)}/ns/net`);
  const members = await pod.containers();
  await member.destroy();
  await pod.remove();
  const missingNetwork = await failureOf(Pod.create({ name: `nonet-${args.tag}`.slice(0, 40).replace(/-+$/, ''), network: 'no-such-net', dataRoot, stateRoot, cgroupParent }));
  return {
    hostNet,
    podNet,
    monitorNet,
    restartCount: restarted.restartCount,
    restartedNet,
    monitorNetAfter,
    members,
    memberId: member.id,
    missingNetwork,
    podFiles: fs.readdirSync(path.join(dataRoot, 'pods')).filter((f) => !f.startsWith('.')),
    stateEntries: fs.readdirSync(stateRoot).filter((f) => !f.startsWith('.')),
  };
}

/**
 * The target stops after it was looked up and before the helper joins it: the helper's pidfd
 * and start-time check refuse it (ESRCH), and nothing of the joiner is left.
 */
export async function targetStopsWhileJoining(args: ScenarioArgs) {
  const { rootfs, stateRoot, cgroupParent } = args;
  const target = new Container({ id: `racetgt-${args.tag}`, rootfs, stateRoot, cgroupParent });
  await target.spawn(['sleep', '1000']).started;
  const pauseFile = path.join(args.dataRoot, 'share-pause');
  process.env.TS_CONTAINER_TEST_PAUSE_AT = 'helper:share-namespaces';
  process.env.TS_CONTAINER_TEST_PAUSE_FILE = pauseFile;
  const joinerId = `racejoin-${args.tag}`;
  const joined = failureOf(new Container({ id: joinerId, rootfs, stateRoot, cgroupParent, network: { container: target } }).spawn(['true']).wait());
  const [reached] = await waitForFile(pauseFile);
  delete process.env.TS_CONTAINER_TEST_PAUSE_AT;
  delete process.env.TS_CONTAINER_TEST_PAUSE_FILE;
  await target.destroy();
  fs.writeFileSync(`${pauseFile}.resume`, 'go');
  const failure = await joined;
  return { reached, failure, left: leftoverCount(containerLeftovers(joinerId, stateRoot)) };
}
