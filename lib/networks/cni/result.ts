/** A CNI result (spec 1.0.0) as c.networks() shows it, and a failed run as a typed error. */
import type { CniOutcome } from '../../../types/native';
import { CniPluginError } from '../../errors/errors';

export interface NetworkInterfaceInfo {
  network: string;
  interface: string;
  /** "10.89.0.2/24" */
  addresses: string[];
  mac: string;
  gateway: string | undefined;
  aliases: string[];
}

interface CniResult {
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
}

export function parseResult(network: string, ifname: string, aliases: string[], text: string): NetworkInterfaceInfo {
  const result = JSON.parse(text) as CniResult;
  const interfaces = result.interfaces ?? [];
  const index = interfaces.findIndex((i) => i.name === ifname && i.sandbox);
  const ips = (result.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === index);
  return {
    network,
    interface: ifname,
    addresses: ips.map((ip) => ip.address),
    mac: index >= 0 ? interfaces[index].mac ?? '' : '',
    gateway: ips.find((ip) => ip.gateway)?.gateway,
    aliases,
  };
}

/** The plugin's error JSON ({ code, msg, details }) or, when it wrote none, its stderr. */
export function cniError(outcome: CniOutcome, command: string): CniPluginError {
  let code = 0;
  let msg = outcome.diagnostics.trim();
  try {
    const parsed = JSON.parse(outcome.output) as { code?: number; msg?: string; details?: string };
    code = parsed.code ?? 0;
    msg = [parsed.msg, parsed.details].filter(Boolean).join(': ') || msg;
  } catch {
    if (outcome.output.trim() !== '') msg = `${msg} ${outcome.output.trim()}`.trim();
  }
  return new CniPluginError(outcome.plugin || 'cni', command, code, msg || `exit status ${outcome.exitCode}`);
}
