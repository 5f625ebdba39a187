/**
 * Network scenarios, each run inside its own test host (test/support/test-host.ts): exported
 * functions whose JSON results the tests assert on. Each makes its own state and data root.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Container, Network } from '../../lib';
import type { ContainerOptions } from '../../lib';
import { ensureBusyboxRootfs } from '../support/busybox-rootfs';
import { runCgroupParent } from '../support/unique';

interface Roots {
  dataRoot: string;
  stateRoot: string;
  base: ContainerOptions;
}

function roots(): Roots {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-net-'));
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
    // Per-container rules: the firewall's ACCEPTs by address, portmap's DNAT chains, the bridge's masquerade.
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
