/**
 * `ts-container info`: what a bug report or a first look needs: the runtime's version, the
 * kernel, the cgroup layout, the roots in use, and what they hold.
 */
import * as os from 'node:os';
import { version } from '../../../package.json';
import { hostHierarchies, type Hierarchies } from '../../cgroups/hierarchy';
import { Container } from '../../container/container';
import { resolveDataRoot } from '../../images/data-root';
import { ImageStore } from '../../images/image-store';
import { resolveStateRoot } from '../../state/state-root';
import type { InfoCommand } from '../parsed';
import { EXIT_RUNTIME_ERROR } from '../parsed';
import { report, type CommandIO } from './common';

/** "v2" (cgroup2 only), "v1" (v1 hierarchies only) or "hybrid" (both, as here: v1 controllers and a cgroup2 tree). */
function cgroupVersion(h: Hierarchies): string {
  if (h.v1.length === 0) return h.unified ? 'v2' : 'none';
  return h.unified ? 'hybrid' : 'v1';
}

export interface RuntimeInfo {
  runtime: string;
  version: string;
  kernel: string;
  operatingSystem: string;
  architecture: string;
  cpus: number;
  memoryBytes: number;
  cgroupVersion: string;
  cgroupControllers: string[];
  stateRoot: string;
  dataRoot: string;
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
}

export async function gatherInfo(stateRootOption: string | undefined, dataRootOption: string | undefined): Promise<RuntimeInfo> {
  const stateRoot = resolveStateRoot(stateRootOption);
  const dataRoot = resolveDataRoot(dataRootOption);
  const entries = await Container.list({ stateRoot });
  const count = (status: string): number => entries.filter((e) => e.status === status).length;
  const images = (await new ImageStore({ root: dataRoot }).list()).length;
  const hierarchies = hostHierarchies();
  const controllers = new Set<string>([...hierarchies.v1.flatMap((h) => h.controllers), ...(hierarchies.unified?.controllers ?? [])]);
  return {
    runtime: 'ts-container',
    version,
    kernel: os.release(),
    operatingSystem: `${os.type()} ${os.version()}`,
    architecture: os.arch(),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    cgroupVersion: cgroupVersion(hierarchies),
    cgroupControllers: [...controllers].sort(),
    stateRoot,
    dataRoot,
    containers: { total: entries.length, running: count('running'), paused: count('paused'), stopped: count('stopped') },
    images,
  };
}

function text(info: RuntimeInfo): string {
  const gib = (info.memoryBytes / 2 ** 30).toFixed(1);
  return [
    `Runtime: ${info.runtime} ${info.version}`,
    `Kernel: ${info.kernel}`,
    `Operating system: ${info.operatingSystem}`,
    `Architecture: ${info.architecture}`,
    `CPUs: ${info.cpus}`,
    `Memory: ${gib} GiB`,
    `Cgroup version: ${info.cgroupVersion}`,
    `Cgroup controllers: ${info.cgroupControllers.join(' ') || '-'}`,
    `State root: ${info.stateRoot}`,
    `Data root: ${info.dataRoot}`,
    `Containers: ${info.containers.total}`,
    ` Running: ${info.containers.running}`,
    ` Paused: ${info.containers.paused}`,
    ` Stopped: ${info.containers.stopped}`,
    `Images: ${info.images}`,
    '',
  ].join('\n');
}

export async function infoCommand(cmd: InfoCommand, io: CommandIO): Promise<number> {
  try {
    const info = await gatherInfo(cmd.stateRoot, cmd.dataRoot);
    io.stdout.write(cmd.json ? `${JSON.stringify(info, null, 2)}\n` : text(info));
    return 0;
  } catch (err) {
    report(io, `cannot gather the runtime's information: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_RUNTIME_ERROR;
  }
}
