/**
 * What most test files need: containers made through `make` are destroyed after each test,
 * temp dirs given to `tempDirs` are removed after the file, and `run`/`sh` collect output.
 * Containers go in a cgroup parent of this run's own (unless the options name one), so that
 * a run never meets another run's cgroups; the library removes it with its last container.
 */
import * as fs from 'node:fs';
import { Container } from '../../lib';
import type { ContainerOptions, ProcessOptions, ProcessOutput } from '../../lib/options/types';
import { runCgroupParent } from './unique';

export interface ContainerHarness {
  make(opts?: ContainerOptions): Container;
  run(opts: ContainerOptions, argv: string[], popts?: ProcessOptions): Promise<ProcessOutput>;
  sh(opts: ContainerOptions, script: string): Promise<ProcessOutput>;
  /** Directories to remove after the file's tests. */
  tempDirs: string[];
}

/**
 * Call at the top of a test file: registers the afterEach/afterAll cleanup. `defaults` (or a
 * function giving them, for values set in a beforeAll) go under the options of every `make`.
 */
export function useContainers(defaults: ContainerOptions | (() => ContainerOptions) = {}): ContainerHarness {
  const live: Container[] = [];
  const tempDirs: string[] = [];
  afterEach(async () => {
    await Promise.all(live.splice(0).map((c) => c.destroy()));
  });
  afterAll(() => {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const cgroupParent = runCgroupParent('harness');
  const make = (opts: ContainerOptions = {}): Container => {
    const c = new Container({ cgroupParent, ...(typeof defaults === 'function' ? defaults() : defaults), ...opts });
    live.push(c);
    return c;
  };
  const run = (opts: ContainerOptions, argv: string[], popts: ProcessOptions = {}): Promise<ProcessOutput> =>
    make(opts).spawn(argv, { stdio: 'pipe', ...popts }).output();
  const sh = (opts: ContainerOptions, script: string): Promise<ProcessOutput> => run(opts, ['sh', '-c', script]);
  return { make, run, sh, tempDirs };
}

/** A clean exit with this stdout and no stderr. */
export const ok = (stdout: string) => ({ exitCode: 0, signal: null, stdout, stderr: '' });
