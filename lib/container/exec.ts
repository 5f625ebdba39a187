/** exec(): another process inside the running container: its namespaces, cgroup, user, capabilities. */
import type { ProcessOptions } from '../options/types';
import { normalizeProcessOptions } from '../options/validate';
import { helperPath, native } from '../native/binding';
import { launchProcess, type ContainerProcess } from '../process/container-process';
import { checkStdio, resolveStdio } from '../process/stdio';
import { checkArgumentSize } from '../process/argument-limits';
import { processUsage } from '../process/usage';
import { ContainerStoppedError } from '../errors/errors';
import { execPlan } from './plan';
import type { ContainerContext } from './context';
import { canExec, canExecNow } from './status';
import { reportError } from './report-error';
import { Step } from '../protocol/generated/steps';

const ESRCH = 3;

export function exec(context: ContainerContext, argv: readonly string[], options?: ProcessOptions): ContainerProcess {
  const { argv: args, process } = normalizeProcessOptions(argv, options, context.config);
  checkArgumentSize(args, process.env, context.config.rlimits);
  checkStdio(options?.stdio);
  const main = canExec(context);
  let oomKillsAtStart = 0;
  const child = launchProcess({
    argv: args,
    stdio: resolveStdio(process.tty ? 'ignore' : options?.stdio),
    start: async (fds) => {
      await main.started.catch(() => undefined);
      const cgroup = canExecNow(context, main);
      oomKillsAtStart = context.oomKills();
      const plan = execPlan(args, process, context.config, cgroup.plan(), context.seccomp, main.pid as number);
      return native().startHelper(helperPath(), plan, fds, main.pidfd, context.seccompListener());
    },
    // The container ended while the helper joined it: a stopped container, not a setup failure.
    reportError: (report) =>
      (report.stepId === Step.JoinNamespaces && report.errno === ESRCH) ||
      (report.stepId === Step.OpenContainerRoot && !main.running)
        ? new ContainerStoppedError(context.id, 'exec')
        : reportError(args, report),
    usage: (own, wallMs) => processUsage(own, wallMs, context.oomKills() > oomKillsAtStart),
    timeout: process.timeout,
    killSignal: process.killSignal,
    signal: process.signal,
    tty: process.tty,
  });
  context.execs.add(child);
  context.trackStdio(child);
  child.once('exit', () => context.execs.delete(child));
  child.once('spawn-failed', () => context.execs.delete(child));
  return child;
}
