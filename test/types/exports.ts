/**
 * What the package exports: the classes, errors and option types a user names, and nothing of
 * the runtime's own machinery (process launch, stdio plumbing, helper reports, normalized config).
 */
import {
  Container,
  ContainerProcess,
  ContainerSetupError,
  ImageStore,
  Network,
  Pod,
  type ContainerOptions,
  type ContainerProcessEvents,
  type ExitStatus,
  type ProcessOptions,
  type ProcessOutput,
} from 'ts-container';
// @ts-expect-error internal: how spawn() and exec() start a process
import type { ProcessLaunch } from 'ts-container';
// @ts-expect-error internal: the stdio plumbing
import type { ResolvedStdio } from 'ts-container';
// @ts-expect-error internal: the helper's report
import type { HelperReport } from 'ts-container';
// @ts-expect-error internal: the exit watch
import type { ExitWatcherHandle } from 'ts-container';
// @ts-expect-error internal: the normalized options (their type is Container['config'])
import type { ContainerConfig } from 'ts-container';
// @ts-expect-error internal: the maker of ContainerProcess
import { launchProcess } from 'ts-container';

const exit: ContainerProcessEvents['exit'] = (code, signal) => [code, signal];
void [Container, ContainerProcess, ContainerSetupError, ImageStore, Network, Pod, exit, launchProcess];
export type Used = [ContainerOptions, ExitStatus, ProcessOptions, ProcessOutput, ProcessLaunch, ResolvedStdio, HelperReport, ExitWatcherHandle, ContainerConfig];
