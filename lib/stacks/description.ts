/**
 * What a Stack is made from: the subset of the compose file format that ts-container runs,
 * as an object (a parsed compose.yaml is one). Keys keep compose's spelling (depends_on,
 * read_only, host_ip), so a file and an object read the same. Any key outside this subset is
 * refused by name (StackFileError), never ignored.
 */

/** A duration as compose writes it ("30s", "1m30s", "500ms") or milliseconds. */
export type StackDuration = string | number;

export interface StackHealthcheck {
  /** ["CMD", program, ...args], ["CMD-SHELL", "script"], ["NONE"], or a script string (CMD-SHELL). */
  test: string[] | string;
  interval?: StackDuration;
  timeout?: StackDuration;
  retries?: number;
  start_period?: StackDuration;
  disable?: boolean;
}

export type StackDependsOnCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface StackPort {
  /** The port inside the container. */
  target: number;
  /** The host port. */
  published: number | string;
  host_ip?: string;
  protocol?: 'tcp' | 'udp';
}

export interface StackVolumeMount {
  type: 'volume' | 'bind';
  /** A volume of the top-level `volumes`, or a host path (relative: to the compose file's directory). */
  source: string;
  target: string;
  read_only?: boolean;
}

export interface StackService {
  /** An image of the image store (never pulled). */
  image: string;
  /** Replaces the image's Cmd: an argv, or a string split as a shell would split words (no expansion). */
  command?: string[] | string;
  /** Replaces the image's Entrypoint (and drops its Cmd, as compose does). */
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  /** "8080:80", "127.0.0.1:8080:80/udp", or { target, published, host_ip, protocol }. */
  ports?: (string | StackPort)[];
  /** "volume:/path[:ro]", "./dir:/path", or { type, source, target, read_only }. */
  volumes?: (string | StackVolumeMount)[];
  depends_on?: string[] | Record<string, { condition?: StackDependsOnCondition; required?: boolean }>;
  healthcheck?: StackHealthcheck;
  /** Networks of the top-level `networks` (default: the stack's `default` network). */
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
  /** Docker's restart policies, applied by each container's monitor. */
  restart?: 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`;
  /** Stop signal and grace period of `down()`. */
  stop_signal?: string;
  stop_grace_period?: StackDuration;
  hostname?: string;
  working_dir?: string;
  init?: boolean;
}

export interface StackNetwork {
  /** The network's own name; default `<project>_<key>`. */
  name?: string;
  /** A network made elsewhere (Network.create): joined, never made or removed. */
  external?: boolean;
  internal?: boolean;
  driver?: 'bridge';
}

export interface StackVolume {
  /** The volume's own name; default `<project>_<key>`. */
  name?: string;
  /** A volume made elsewhere: mounted, never removed. */
  external?: boolean;
}

export interface StackDescription {
  /** The project name; default: the option `project`, or the compose file's directory. */
  name?: string;
  /** Compose's obsolete version key: accepted and ignored, as compose does. */
  version?: string;
  services: Record<string, StackService>;
  networks?: Record<string, StackNetwork | null>;
  volumes?: Record<string, StackVolume | null>;
}
