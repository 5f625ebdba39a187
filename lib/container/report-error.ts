/** The error a failed helper report becomes: the program's own exec failure, or a setup step's. */
import type { HelperReport } from '../../types/native';
import { ContainerSetupError, spawnError } from '../errors/errors';
import { setupHint } from './setup-hints';
import { Step } from '../protocol/generated/steps';

export function reportError(argv: string[], report: HelperReport): Error {
  if (report.stepId === Step.Exec) return spawnError(argv, report.errno);
  return new ContainerSetupError(report.step, report.errno, setupHint(report.stepId, report.errno));
}
