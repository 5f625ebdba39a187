/**
 * What `inspect` prints for a container: docker's shape where the runtime has the same thing
 * (Id, Name, Created, Path, Args, State, Image, Config, HostConfig, Mounts, NetworkSettings),
 * beside the list entry's own fields and the OCI state (under State, with docker's keys added),
 * which earlier versions printed and scripts may read.
 */
import { constants as osConstants } from 'node:os';
import { dockerHealth, dockerHealthcheck } from './health-format';
import { DEFAULT_CAPABILITIES } from '../../options/defaults';
import type { ContainerConfig } from '../../options/validate';
import type { ContainerListEntry, ContainerState } from '../../state/types';

/** The exit code as docker reports it: the code, or 128+N for a signal. */
function exitCode(state: ContainerState): number {
  if (typeof state.exitCode === 'number') return state.exitCode;
  const n = state.signal ? (osConstants.signals as Record<string, number | undefined>)[state.signal] : undefined;
  return n === undefined ? 0 : 128 + n;
}

function signalName(n: number): string {
  return Object.entries(osConstants.signals).find(([, value]) => value === n)?.[0] ?? String(n);
}

function userText(user: ContainerConfig['user']): string {
  if (user.spec !== undefined) return user.spec;
  return user.uid === 0 && user.gid === 0 ? '' : `${user.uid}:${user.gid}`;
}

export function dockerInspect(entry: ContainerListEntry & { error?: undefined }, state: ContainerState, config: ContainerConfig): object {
  const defaults = new Set<string>(DEFAULT_CAPABILITIES);
  const kept = new Set(config.capabilities);
  const short = (cap: string): string => cap.replace(/^CAP_/, '');
  const zero = '0001-01-01T00:00:00Z';
  return {
    Type: 'container',
    ...entry,
    Id: entry.id,
    Name: `/${entry.id}`,
    Created: entry.created,
    Path: entry.command[0] ?? '',
    Args: entry.command.slice(1),
    State: {
      ...state,
      Status: state.status === 'stopped' ? 'exited' : state.status,
      Running: state.status === 'running' || state.status === 'paused',
      Paused: state.status === 'paused',
      Restarting: false,
      Pid: state.pid,
      ExitCode: exitCode(state),
      StartedAt: state.startedAt ?? zero,
      FinishedAt: state.finishedAt ?? zero,
      Health: dockerHealth(state.health),
    },
    Image: config.image?.id ?? '',
    RestartCount: state.restartCount,
    Config: {
      Hostname: config.hostname,
      User: userText(config.user),
      Env: Object.entries(config.env).map(([k, v]) => `${k}=${v}`),
      Cmd: entry.command,
      Image: config.image?.reference ?? config.image?.id ?? '',
      WorkingDir: config.cwd,
      Labels: config.lifecycle.annotations,
      StopSignal: signalName(config.lifecycle.stopSignal),
      StopTimeout: config.lifecycle.stopTimeout,
      Healthcheck: dockerHealthcheck(config.healthcheck),
    },
    HostConfig: {
      Privileged: config.privileged,
      ReadonlyRootfs: config.readonly,
      CapAdd: config.capabilities.filter((c) => !defaults.has(c)).map(short),
      CapDrop: [...defaults].filter((c) => !kept.has(c)).map(short),
      Init: config.init,
      NetworkMode: typeof config.network === 'string' ? config.network : 'name' in config.network ? config.network.name : 'container',
      RestartPolicy: { Name: config.lifecycle.restart.policy, MaximumRetryCount: config.lifecycle.restart.maxRetries },
      Memory: config.resources?.memoryBytes ?? 0,
      PidsLimit: typeof config.resources?.pids === 'number' ? config.resources.pids : 0,
      Ulimits: config.rlimits.map((l) => ({ Name: l.name, Soft: l.soft === 'unlimited' ? -1 : l.soft, Hard: l.hard === 'unlimited' ? -1 : l.hard })),
    },
    Mounts: config.mounts.map((m) =>
      m.type === 'bind'
        ? { Type: 'bind', Source: m.source, Destination: m.target, RW: !m.readonly }
        : { Type: 'tmpfs', Source: '', Destination: m.target, RW: !m.readonly },
    ),
    NetworkSettings: {
      Ports: Object.fromEntries(
        config.ports.map((p) => [`${p.container}/${p.protocol}`, [{ HostIp: p.hostIp, HostPort: String(p.host) }]]),
      ),
    },
  };
}
