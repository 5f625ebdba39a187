/**
 * OCI bundle generation for the runc and crun rows: a temp dir with a config.json whose
 * base comes from `runc spec` (or `crun spec`, or a built-in copy of the same defaults when
 * neither tool can write one), patched to run /bin/true in the busybox rootfs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface OciBundle {
  /** The bundle directory (holds config.json). */
  dir: string;
  /** Where the config came from: 'runc spec', 'crun spec' or 'built-in'. */
  specSource: string;
  /** Removes the bundle directory; idempotent. */
  cleanup(): void;
}

export interface BundleOptions {
  /** Absolute path of the root filesystem. */
  rootfs: string;
  args: string[];
  /** Prefix of the temp dir name. */
  prefix?: string;
  /** OCI linux.resources (cgroup limits), when the run is measured with limits. */
  resources?: Record<string, unknown>;
  /** OCI linux.seccomp, when the run is measured with a profile. */
  seccomp?: Record<string, unknown>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REQUIRED_NAMESPACES = ['pid', 'network', 'ipc', 'uts', 'mount'];

/** Writes a bundle into a fresh temp dir. The caller must call cleanup() (also on failure). */
export function createOciBundle(opts: BundleOptions): OciBundle {
  if (!path.isAbsolute(opts.rootfs)) throw new Error(`rootfs must be absolute: ${opts.rootfs}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? 'ts-container-bench-bundle-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    let base: Json | null = null;
    let specSource = 'built-in';
    for (const tool of ['runc', 'crun']) {
      const r = spawnSync(tool, ['spec'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
      const file = path.join(dir, 'config.json');
      if (r.status === 0 && fs.existsSync(file)) {
        base = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
        specSource = `${tool} spec`;
        break;
      }
      fs.rmSync(file, { force: true });
    }
    const config = patchConfig(base ?? builtinSpec(), opts);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return { dir, specSource, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

function patchConfig(config: Json, opts: BundleOptions): Json {
  config.root = { ...(config.root ?? {}), path: opts.rootfs, readonly: true };
  config.process = { ...(config.process ?? {}), args: opts.args, terminal: false };
  config.linux = config.linux ?? {};
  const namespaces: Json[] = Array.isArray(config.linux.namespaces) ? config.linux.namespaces : [];
  for (const type of REQUIRED_NAMESPACES) {
    if (!namespaces.some((ns) => ns.type === type)) namespaces.push({ type });
  }
  config.linux.namespaces = namespaces;
  if (opts.resources) config.linux.resources = { ...(config.linux.resources ?? {}), ...opts.resources };
  if (opts.seccomp) config.linux.seccomp = opts.seccomp;
  else delete config.linux.seccomp;
  return config;
}

/** The defaults `runc spec` (1.1) writes, for when neither runc nor crun can write them. */
function builtinSpec(): Json {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: REQUIRED_NAMESPACES.map((type) => ({ type })),
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
