/**
 * Expected uses and expected errors of the options: env takes process.env, capabilities are
 * known names, mounts and resources are checked shapes.
 */
import { Container, DEFAULT_CAPABILITIES, type Capability, type CapabilityName, type ContainerOptions } from 'ts-container';

// process.env as env, for the container and for one process.
const c = new Container({ env: process.env });
c.exec(['env'], { env: { ...process.env, EXTRA: '1' } });
// @ts-expect-error env values are strings
new Container({ env: { N: 1 } });

// Capabilities: the known names, with or without CAP_, upper or lower case, and ALL.
new Container({ capabilities: { add: ['NET_ADMIN', 'CAP_SYS_PTRACE', 'net_raw', 'cap_bpf'], drop: ['ALL'] } });
const fromConfig = ['SYS_ADMIN', 'MKNOD'] as const;
new Container({ capabilities: { add: fromConfig } });
const name: CapabilityName = 'CHECKPOINT_RESTORE';
const prefixed: Capability = `CAP_${name}`;
// @ts-expect-error not a capability
new Container({ capabilities: { add: ['NET_ADMN'] } });
// @ts-expect-error a name is needed, not any string
const anyString: Capability = String('NET_ADMIN');
const defaults: readonly string[] = DEFAULT_CAPABILITIES;

// Mounts: a bind needs its source; a tmpfs takes a size and a mode; a volume, a name or none.
new Container({
  mounts: [
    { type: 'bind', source: '/src', target: '/work', readonly: true },
    { type: 'tmpfs', target: '/scratch', size: '64m', mode: 0o1777 },
  ],
});
// @ts-expect-error a bind mount needs a source
new Container({ mounts: [{ type: 'bind', target: '/work' }] });
// A named volume (or an anonymous one, without source), at `target` or docker's `destination`.
new Container({ mounts: [{ type: 'volume', source: 'cache', target: '/cache' }, { type: 'volume', destination: '/scratch' }] });
// @ts-expect-error a volume takes target or destination, not both
new Container({ mounts: [{ type: 'volume', source: 'cache', target: '/cache', destination: '/cache' }] });
// @ts-expect-error unknown mount type
new Container({ mounts: [{ type: 'overlay', target: '/work' }] });

// rlimits: a number, 'unlimited', or soft and hard.
new Container({ rlimits: { nofile: 1024, core: 'unlimited', nproc: { soft: 100, hard: 'unlimited' } } });
// @ts-expect-error not a limit's name
new Container({ rlimits: { files: 1024 } });

// Resources and the rest.
const options: ContainerOptions = {
  resources: { memory: '256m', cpus: 1.5, pids: -1, io: { readBps: [{ device: '/dev/vda', rate: '10m' }] } },
  network: 'none',
  user: { uid: 1000, gid: 1000, groups: [] },
  tty: { columns: 80, rows: 24 },
};
// @ts-expect-error a typo is caught
new Container({ hostnme: 'box' });
// @ts-expect-error killSignal is a signal's name or number
c.exec(['true'], { killSignal: 'SIGNOPE' });
c.exec(['true'], { killSignal: 'SIGINT', timeout: 1000, signal: AbortSignal.timeout(5000), cwd: '/', user: { uid: 1 } });

// The normalized config is readable; its type is the getter's.
const config: Container['config'] = c.config;
const id: string = config.id;

void [prefixed, anyString, defaults, options, id];

// The defaults are capability names too: a set built from them type-checks.
new Container({ capabilities: { drop: ['ALL'], add: DEFAULT_CAPABILITIES.filter((cap) => cap !== 'CAP_NET_RAW') } });
