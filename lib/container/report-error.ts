/** The error a failed helper report becomes: the program's own exec failure, or a setup step's. */
import type { HelperReport } from '../../types/native';
import { ContainerSetupError, spawnError } from '../errors/errors';
import { setupHint } from './setup-hints';

export function reportError(argv: string[], report: HelperReport): Error {
  if (report.step === 'exec') return spawnError(argv, report.errno);
  return new ContainerSetupError(report.step, report.errno, setupHint(report.step, report.errno));
}
