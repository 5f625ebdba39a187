/**
 * The CNI configuration ts-container writes: the network's conflist (bridge with host-local
 * IPAM, portmap), and from it the plugin chain of one container (each plugin's exact
 * stdin JSON, with the container's port mappings as portmap's runtimeConfig).
 */
import type { NetworkDefinition } from '../network-store';

export const CNI_VERSION = '1.0.0';

/** Where Debian's containernetworking-plugins puts the binaries; $CNI_PATH overrides it. */
export function cniPath(): string {
  return process.env.CNI_PATH || '/usr/lib/cni';
}

export interface PluginConfig {
  type: string;
  [key: string]: unknown;
}

export interface NetworkConflist {
  cniVersion: string;
  name: string;
  plugins: PluginConfig[];
  'ts-container': NetworkDefinition;
}

export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

export function networkConflist(definition: NetworkDefinition, ipamDataDir: string): NetworkConflist {
  const plugins: PluginConfig[] = [
    {
      type: 'bridge',
      bridge: definition.bridge,
      isGateway: true,
      // Outbound NAT is the network's own chain (bridge.ts), made once, not per container.
      ipMasq: false,
      hairpinMode: true,
      ...(definition.mtu !== undefined && { mtu: definition.mtu }),
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: definition.subnet, gateway: definition.gateway }]],
        // An internal network has no way out, so no default route either.
        routes: definition.internal ? [] : [{ dst: '0.0.0.0/0' }],
        dataDir: ipamDataDir,
      },
    },
    // No firewall plugin: the network's FORWARD accepts are its own rules (bridge.ts), made
    // once, not two per container at each ADD and DEL.
    { type: 'portmap', capabilities: { portMappings: true }, snat: true },
  ];
  return { cniVersion: CNI_VERSION, name: definition.name, plugins, 'ts-container': definition };
}

/**
 * One container's chain: each plugin's stdin as the CNI spec wants it (cniVersion and name
 * added; prevResult is spliced in by whoever runs it). portmap only when it has ports.
 */
export function containerChain(conflist: NetworkConflist, ports: CniPortMapping[]): { type: string; config: string }[] {
  const chain: { type: string; config: string }[] = [];
  for (const plugin of conflist.plugins) {
    let config: Record<string, unknown> = { cniVersion: conflist.cniVersion, name: conflist.name, ...plugin };
    if (plugin.type === 'portmap') {
      if (ports.length === 0) continue;
      config = { ...config, runtimeConfig: { portMappings: ports } };
    }
    chain.push({ type: plugin.type, config: JSON.stringify(config) });
  }
  return chain;
}
